package web

import (
	"errors"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type confirmPage struct {
	Page
	OK bool
}

// confirmEmail is the link from the confirmation mail: it confirms the
// address once and sends the user on to log in.
func (s *Server) confirmEmail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, err := s.st.UseEmailToken(ctx, store.HashToken(r.PathValue("token")), store.TokenConfirm, s.now())
	if errors.Is(err, store.ErrNotFound) {
		s.render(w, r, http.StatusNotFound, "confirm", confirmPage{Page: s.page("Link expired", "manage", nil)})
		return
	}
	if err == nil {
		err = s.st.ConfirmUserEmail(ctx, uid, s.now())
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "confirm", confirmPage{Page: s.page("Address confirmed", "manage", nil), OK: true})
}
