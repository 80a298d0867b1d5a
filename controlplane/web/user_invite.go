package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// inviteUser records an invitation to join the account and mails it. The
// answer does not tell whether the address has an account elsewhere: that
// is looked up off the request path, and such an address is mailed a note
// instead of a link.
func (s *Server) inviteUser(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	ctx := r.Context()
	email, e := checkEmail(r.PostFormValue("email"))
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
	inviter, site, base, ttl := u.Email, s.cfg.SiteName, s.cfg.BaseURL, s.cfg.InviteTTL
	s.later("invitation", func(ctx context.Context) error {
		m := mail.Message{To: []string{email}, Subject: "Invitation to a " + site + " account",
			Body: fmt.Sprintf("Hello,\n\n%s invites you to manage their NTP servers in the %s.\nTo accept, open this link and choose a password:\n\n%s/invite/%s\n\nThe invitation expires in %s.\n",
				inviter, site, base, tok, ttl)}
		if _, err := s.st.UserByEmail(ctx, email); err == nil {
			m.Body = fmt.Sprintf("Hello,\n\n%s invited you to manage their NTP servers in the %s, but this address\nalready has an account there, and an address belongs to one account.\nTo join theirs, delete your account first, or ask for an invitation to another address.\n",
				inviter, site)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.mailer.Send(ctx, m)
	})
	http.Redirect(w, r, "/manage/account?done=invited", http.StatusSeeOther)
}
