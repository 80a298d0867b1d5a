package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// inviteUser mails an invitation to join the account.
func (s *Server) inviteUser(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	ctx := r.Context()
	email, e := checkEmail(r.PostFormValue("email"))
	if e == "" {
		if _, err := s.st.UserByEmail(ctx, email); err == nil {
			e = "This address already has an account."
		} else if !errors.Is(err, store.ErrNotFound) {
			s.serverError(w, r, err)
			return
		}
	}
	if e == "" && !s.limits.allow(s.now(), s.mailLimits(r, email)...) {
		e = "Too many invitations at once. Please wait a minute."
	}
	if e != "" {
		p, err := s.accountPage(ctx, u)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		p.InviteEmail, p.Errors = email, fieldErrors{"email": e}
		s.render(w, r, http.StatusUnprocessableEntity, "account", p)
		return
	}
	tok := rand.Text()
	now := s.now()
	if err := s.st.CreateInvitation(ctx, store.HashToken(tok), u.AccountID, u.ID, email, now, now.Add(s.cfg.InviteTTL)); err != nil {
		s.serverError(w, r, err)
		return
	}
	err := s.mailer.Send(ctx, mail.Message{To: []string{email}, Subject: "Invitation to a " + s.cfg.SiteName + " account",
		Body: fmt.Sprintf("Hello,\n\n%s invites you to manage their NTP servers in the %s.\nTo accept, open this link and choose a password:\n\n%s/invite/%s\n\nThe invitation expires in %s.\n",
			u.Email, s.cfg.SiteName, s.cfg.BaseURL, tok, s.cfg.InviteTTL)})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/manage/account?done=invited", http.StatusSeeOther)
}
