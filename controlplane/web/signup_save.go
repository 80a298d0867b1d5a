package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// saveSignup creates an account with one unconfirmed user and mails the
// confirmation link. An address already registered gets the same answer
// (so the form does not tell who has an account) and a mail saying so.
func (s *Server) saveSignup(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	email, emailErr := checkEmail(r.PostFormValue("email"))
	pw := r.PostFormValue("password")
	p := signupPage{Page: s.page("Sign up", "manage", nil), Email: email, Errors: fieldErrors{}}
	if emailErr != "" {
		p.Errors["email"] = emailErr
	}
	if e := checkPassword(pw); e != "" {
		p.Errors["password"] = e
	}
	if len(p.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "signup", p)
		return
	}
	if !s.limits.allow(s.now(), s.mailLimits(r, email)...) {
		s.errorPage(w, r, http.StatusTooManyRequests, "Too many attempts. Please wait a minute and try again.")
		return
	}
	hash, err := s.hashPassword(pw)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ctx := r.Context()
	var u store.User
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		acct, err := tx.CreateAccount(ctx, email)
		if err != nil {
			return err
		}
		u = store.User{AccountID: acct, Email: email, PasswordHash: hash}
		u.ID, err = tx.CreateUser(ctx, u)
		return err
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		site, base := s.cfg.SiteName, s.cfg.BaseURL
		s.later("sign-up notice", func(ctx context.Context) error {
			return s.mailer.Send(ctx, mail.Message{To: []string{email}, Subject: "You already have a " + site + " account",
				Body: fmt.Sprintf("Hello,\n\nsomeone tried to sign up with this address, which already has an account.\nTo log in: %s/login\nForgot the password? %s/reset\n", base, base)})
		})
	case err == nil:
		s.later("confirmation link", func(ctx context.Context) error { return s.sendToken(ctx, u, store.TokenConfirm, s.cfg.ConfirmTTL) })
	default:
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "signup_done", signupPage{Page: s.page("Check your email", "manage", nil), Email: email})
}
