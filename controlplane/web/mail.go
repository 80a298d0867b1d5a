package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// mailQueueSize bounds the mail work waiting to run. When it is full,
// further work is dropped (and logged): the answer to the request is the
// same either way, and a flood cannot grow memory.
const mailQueueSize = 256

// mailJobTimeout bounds one piece of mail work (lookups and delivery).
const mailJobTimeout = time.Minute

// later queues fn to run off the request path, so that a form's answer
// and its timing do not depend on whether an address has an account or
// how long the relay takes. One worker runs the queue, started when work
// arrives and gone when it is empty.
func (s *Server) later(what string, fn func(ctx context.Context) error) {
	select {
	case s.mailQ <- mailJob{what, fn}:
	default:
		s.log.Warn("web: mail queue full, work dropped", "what", what)
		return
	}
	s.startMailWorker()
}

type mailJob struct {
	what string
	fn   func(ctx context.Context) error
}

func (s *Server) startMailWorker() {
	if !s.mailing.CompareAndSwap(false, true) {
		return
	}
	s.background(func() {
		for {
			select {
			case j := <-s.mailQ:
				ctx, cancel := context.WithTimeout(context.Background(), mailJobTimeout)
				if err := j.fn(ctx); err != nil {
					s.log.Error("web: mail work failed", "what", j.what, "err", err)
				}
				cancel()
				continue
			default:
			}
			s.mailing.Store(false)
			// Work queued after the check above but before the flag
			// dropped found the worker still running: take it on.
			if len(s.mailQ) == 0 || !s.mailing.CompareAndSwap(false, true) {
				return
			}
		}
	})
}

// sendToken creates a one-time token for u and mails the link holding it.
// Run it through later.
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

// mailResetLink mails a reset link when email has an account, and does
// nothing otherwise. Run it through later.
func (s *Server) mailResetLink(ctx context.Context, email string) error {
	u, err := s.st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.sendToken(ctx, u, store.TokenReset, s.cfg.ResetTTL)
}
