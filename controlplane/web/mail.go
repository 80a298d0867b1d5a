package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// sendToken creates a one-time token for u and mails the link holding it.
func (s *Server) sendToken(ctx context.Context, u store.User, purpose string, ttl time.Duration) error {
	tok := rand.Text()
	now := s.now()
	if err := s.st.CreateEmailToken(ctx, store.HashToken(tok), u.ID, purpose, now, now.Add(ttl)); err != nil {
		return err
	}
	var m mail.Message
	switch purpose {
	case store.TokenConfirm:
		m = mail.Message{To: []string{u.Email}, Subject: "Confirm your address for the " + s.cfg.SiteName,
			Body: fmt.Sprintf("Hello,\n\nplease confirm your email address for the %s by opening this link:\n\n%s/confirm/%s\n\nThe link works once, within %s. If you did not sign up, ignore this message.\n",
				s.cfg.SiteName, s.cfg.BaseURL, tok, ttl)}
	case store.TokenReset:
		m = mail.Message{To: []string{u.Email}, Subject: "Reset your " + s.cfg.SiteName + " password",
			Body: fmt.Sprintf("Hello,\n\nto choose a new password for the %s, open this link:\n\n%s/reset/%s\n\nThe link works once, within %s. If you did not ask for this, ignore this message.\n",
				s.cfg.SiteName, s.cfg.BaseURL, tok, ttl)}
	default:
		return fmt.Errorf("web: unknown token purpose %q", purpose)
	}
	return s.mailer.Send(ctx, m)
}
