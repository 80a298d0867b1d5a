package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// Registry adds and changes servers under the pool's rules
// (controlplane/registry): a public address not registered yet that
// answers NTP with a good stratum, net speeds from the menu, deletion dates
// ahead, and ownership proven by a request from the server's address.
// Every method that takes an account acts only on its servers and claims.
// Refusals are FieldErrors.
type Registry interface {
	// Add registers the address, or each address of the hostname.
	Add(ctx context.Context, accountID int64, in registry.Input) ([]registry.Added, error)
	SetNetspeed(ctx context.Context, accountID, serverID, speed int64) error
	SetCountry(ctx context.Context, accountID, serverID int64, cc string) error
	ScheduleDeletion(ctx context.Context, accountID, serverID int64, on time.Time) error
	CancelDeletion(ctx context.Context, accountID, serverID int64) error

	NewServerToken(ctx context.Context, accountID, serverID int64) (registry.Token, error)
	NewClaimToken(ctx context.Context, accountID, claimID int64) (registry.Token, error)
	CancelClaim(ctx context.Context, accountID, claimID int64) error
	// Verify checks a token presented by a request from address from.
	Verify(ctx context.Context, token string, from netip.Addr) (store.Server, error)
	// MarkVerified verifies a server on an admin's word.
	MarkVerified(ctx context.Context, serverID int64) error
}

// FieldError is a refusal that names the form field it is about ("ip",
// "country"); its Error text is shown beside that field.
type FieldError interface {
	error
	Field() string
}

// addServer registers a server, or each address of a hostname, through
// the registry. A refusal is shown beside the field it concerns; one
// address becoming a server opens its page, a claim the list.
func (s *Server) addServer(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	addr := strings.TrimSpace(r.PostFormValue("ip"))
	cc := strings.ToLower(strings.TrimSpace(r.PostFormValue("country")))
	errs := fieldErrors{}
	switch {
	case addr == "":
		errs["ip"] = "Enter the server's IPv4 or IPv6 address, or a hostname."
	case cc != "" && !record.ValidCountry(cc):
		errs["country"] = "Choose a country from the list."
	}
	var added []registry.Added
	if len(errs) == 0 {
		var err error
		added, err = s.reg.Add(r.Context(), u.AccountID, registry.Input{Address: addr, Country: cc})
		if fe, ok := errors.AsType[FieldError](err); ok {
			errs[fe.Field()] = fe.Error()
		} else if err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	var done, refused []string
	for _, a := range added {
		if _, ok := errors.AsType[FieldError](a.Err); a.Err != nil && !ok {
			s.serverError(w, r, a.Err)
			return
		}
		if a.Err != nil {
			refused = append(refused, a.Message())
		} else {
			done = append(done, a.Message())
		}
	}
	if len(done) > 0 {
		s.invalidate()
	}
	if len(added) == 1 && len(done) == 1 {
		if a := added[0]; a.Server.ID != 0 {
			http.Redirect(w, r, "/manage/servers/"+strconv.FormatInt(a.Server.ID, 10)+"?done=added", http.StatusSeeOther)
		} else {
			http.Redirect(w, r, "/manage?done=claimed", http.StatusSeeOther)
		}
		return
	}
	if len(refused) > 0 {
		errs["ip"] = strings.Join(refused, ". ") + "."
	}
	p, err := s.serversPage(r.Context(), u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	status := http.StatusUnprocessableEntity
	if len(done) > 0 {
		// Some of a hostname's addresses were added: say which, and
		// keep the refusals beside the field.
		status, p.Notice = http.StatusOK, strings.Join(done, ". ")+"."
	}
	p.Addr, p.Country, p.Errors = addr, cc, errs
	s.render(w, r, status, "servers", p)
}
