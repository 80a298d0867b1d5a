package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// dummyHash is compared against when the address is unknown, so a wrong
// address takes as long as a wrong password.
var dummyHash, _ = store.HashPassword("not a password of anyone")

// saveLogin checks the password and starts a session; only here does the
// site set a cookie. Attempts are limited per client and per address.
func (s *Server) saveLogin(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	email, _ := checkEmail(r.PostFormValue("email"))
	pw := r.PostFormValue("password")
	p := loginPage{Page: s.page("Log in", "manage", nil), Email: email, Next: localPath(r.PostFormValue("next"), "")}
	lims := s.passwordLimits(r, email)
	if !s.limits.allow(s.now(), lims...) {
		p.Error = "Too many attempts. Please wait a minute and try again."
		s.render(w, r, http.StatusTooManyRequests, "login", p)
		return
	}
	ctx := r.Context()
	u, err := s.st.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.serverError(w, r, err)
		return
	}
	if err != nil {
		u = store.User{PasswordHash: dummyHash}
	}
	if !s.passwordMatches(u, pw) || u.ID == 0 {
		p.Error = "The email address or the password is wrong."
		s.render(w, r, http.StatusUnauthorized, "login", p)
		return
	}
	s.passedPassword(r, email, lims)
	if u.EmailConfirmedAt.IsZero() {
		s.later("confirmation link", func(ctx context.Context) error { return s.sendToken(ctx, u, store.TokenConfirm, s.cfg.ConfirmTTL) })
		p.Error = "Please confirm your address first: we have sent you a new link."
		s.render(w, r, http.StatusForbidden, "login", p)
		return
	}
	if err := s.startSession(ctx, w, u); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, localPath(p.Next, "/manage"), http.StatusSeeOther)
}
