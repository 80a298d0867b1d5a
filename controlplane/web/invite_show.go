package web

import (
	"errors"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type invitePage struct {
	Page
	Token   string
	Email   string
	Account string
	Errors  fieldErrors
}

// showInvite is the link from an invitation mail: it asks the invited
// person for a password.
func (s *Server) showInvite(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	in, err := s.st.Invitation(r.Context(), store.HashToken(tok), s.now())
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "This invitation has expired or was used already.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "invite_accept", invitePage{Page: s.page("Join an account", "manage", nil), Token: tok, Email: in.Email})
}
