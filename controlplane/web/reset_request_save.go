package web

import (
	"context"
	"net/http"
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
	// Whether the address has an account is found out off the request
	// path, so the answer and its timing are the same either way.
	s.later("reset link", func(ctx context.Context) error { return s.mailResetLink(ctx, email) })
	p.Title = "Check your email"
	s.render(w, r, http.StatusOK, "reset_done", p)
}
