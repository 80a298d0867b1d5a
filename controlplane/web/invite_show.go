package web

import (
	"errors"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type invitePage struct {
	Page
	Token  string
	Email  string
	Errors fieldErrors
}

// showInvite is the link from an invitation mail: it asks the invited
// person for a password.
func (s *Server) showInvite(w http.ResponseWriter, r *http.Request) {
	if p, _, ok := s.invitation(w, r); ok {
		s.render(w, r, http.StatusOK, "invite_accept", p)
	}
}

// invitation loads the invitation of the {token} path value; when there is
// none it has answered and ok is false.
func (s *Server) invitation(w http.ResponseWriter, r *http.Request) (invitePage, store.Invitation, bool) {
	tok := r.PathValue("token")
	in, err := s.st.Invitation(r.Context(), store.HashToken(tok), s.now())
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "This invitation has expired or was used already.")
		return invitePage{}, in, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return invitePage{}, in, false
	}
	return invitePage{Page: s.page("Join an account", "manage", nil), Token: tok, Email: in.Email}, in, true
}
