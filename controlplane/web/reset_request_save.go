package web

import (
	"errors"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// saveResetRequest mails a reset link when the address has an account. The
// answer is the same either way.
func (s *Server) saveResetRequest(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	email, e := checkEmail(r.PostFormValue("email"))
	p := resetPage{Page: s.page("Reset your password", "manage", nil), Email: email}
	if e != "" {
		p.Errors = fieldErrors{"email": e}
		s.render(w, r, http.StatusUnprocessableEntity, "reset_request", p)
		return
	}
	if !s.limits.allow(s.now(), s.mailLimits(r, email)...) {
		s.errorPage(w, r, http.StatusTooManyRequests, "Too many attempts. Please wait a minute and try again.")
		return
	}
	u, err := s.st.UserByEmail(r.Context(), email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = nil
	case err == nil:
		err = s.sendToken(r.Context(), u, store.TokenReset, s.cfg.ResetTTL)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.Title = "Check your email"
	s.render(w, r, http.StatusOK, "reset_done", p)
}
