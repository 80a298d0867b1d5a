package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// Ownership: the owner gets a token on the manage site and fetches
// /verify/TOKEN from the server itself; the request's source address must
// be the server's.

// verify answers the command the owner runs on the server (curl), in
// plain text: the token's server or claim is verified when the request
// comes from its address; from anywhere else nothing changes.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	text := func(status int, msg string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		fmt.Fprintln(w, msg)
	}
	// The client's address: the TCP peer, or behind a trusted proxy the
	// one X-Forwarded-For names (clientip.go).
	from := s.clientAddr(r)
	if !from.IsValid() {
		text(http.StatusBadRequest, "The request's source address could not be read.")
		return
	}
	// Tokens are too long to guess, but each try costs lookups: a client
	// gets the log-in rate, in a bucket of its own.
	if !s.limits.allow(s.now(), s.verifyLimit(r)) {
		text(http.StatusTooManyRequests, "Too many verification attempts from your network. Please wait a minute and try again.")
		return
	}
	srv, err := s.reg.Verify(r.Context(), r.PathValue("token"), from)
	if ws, ok := errors.AsType[*registry.WrongSourceError](err); ok {
		text(http.StatusForbidden, "Not verified: "+ws.Error()+".")
		return
	}
	switch {
	case errors.Is(err, registry.ErrUnknownToken):
		text(http.StatusNotFound, "Not verified: this verification link is unknown or has expired (links work for 72 hours). Get a new one on the server's page.")
		return
	case err != nil:
		s.log.Error("web: verify failed", "err", err)
		text(http.StatusInternalServerError, "Something went wrong on our side. Please try again later.")
		return
	}
	s.invalidate()
	text(http.StatusOK, fmt.Sprintf("Verified: %s belongs to your account on %s now.", srv.IP, s.cfg.SiteName))
}

type verifyPage struct {
	Page
	IP       string
	URL      string
	Family   string // "-4" or "-6"
	Expires  time.Time
	Back     string
	ForClaim bool
}

// verifyCommand shows a new token as the commands to run on the server.
func (s *Server) verifyCommand(w http.ResponseWriter, r *http.Request, u *store.User, tok registry.Token, back string, claim bool) {
	p := verifyPage{Page: s.page("Verify "+tok.IP.String(), "manage", u), IP: tok.IP.String(),
		URL: s.cfg.BaseURL + "/verify/" + tok.Token, Family: "-4", Expires: tok.Expires, Back: back, ForClaim: claim}
	if tok.IP.Is6() {
		p.Family = "-6"
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "verify", p)
}

// newServerToken issues a token for one of the account's unverified
// servers and shows the command.
func (s *Server) newServerToken(w http.ResponseWriter, r *http.Request, u *store.User) {
	srv, ok := s.ownServer(w, r, u)
	if !ok {
		return
	}
	tok, err := s.reg.NewServerToken(r.Context(), u.AccountID, srv.ID)
	if fe, ok := errors.AsType[FieldError](err); ok {
		s.renderServer(w, r, u, srv, http.StatusUnprocessableEntity, fieldErrors{fe.Field(): fe.Error()})
		return
	}
	if s.storeFailed(w, r, err) {
		return
	}
	s.verifyCommand(w, r, u, tok, "/manage/servers/"+strconv.FormatInt(srv.ID, 10), false)
}

// claimID reads the {id} path value; 0 when it is not a number.
func claimID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id
}

// newClaimToken issues a token for one of the account's claims.
func (s *Server) newClaimToken(w http.ResponseWriter, r *http.Request, u *store.User) {
	tok, err := s.reg.NewClaimToken(r.Context(), u.AccountID, claimID(r))
	if s.storeFailed(w, r, err) {
		return
	}
	s.verifyCommand(w, r, u, tok, "/manage", true)
}

// cancelClaim withdraws one of the account's claims.
func (s *Server) cancelClaim(w http.ResponseWriter, r *http.Request, u *store.User) {
	if s.storeFailed(w, r, s.reg.CancelClaim(r.Context(), u.AccountID, claimID(r))) {
		return
	}
	http.Redirect(w, r, "/manage?done=withdrawn", http.StatusSeeOther)
}

// adminVerify marks a server verified on an admin's word.
func (s *Server) adminVerify(w http.ResponseWriter, r *http.Request, u *store.User) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	if s.storeFailed(w, r, s.reg.MarkVerified(r.Context(), id)) {
		return
	}
	s.audit(r, u, "server.verify", fmt.Sprintf("server %d", id), "marked verified")
	s.invalidate()
	http.Redirect(w, r, "/admin/servers?done=verified", http.StatusSeeOther)
}
