package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/mail/mailtest"
)

func TestSMTPDeliversToARealServer(t *testing.T) {
	srv := mailtest.Start(t)
	s := mail.New(mail.Config{Host: srv.Host(), Port: srv.Port(), From: "pool@example.test"}, slog.New(slog.DiscardHandler))
	body := "Hello,\n.\nA line with a lone dot above, and ünïcode = fine.\n"
	err := s.Send(context.Background(), mail.Message{To: []string{"a@example.test", "b@example.test"}, Subject: "Score alert für dich", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Next(t, 5*time.Second)
	if m.From != "pool@example.test" || len(m.To) != 2 || m.To[1] != "b@example.test" {
		t.Errorf("envelope %q %q", m.From, m.To)
	}
	if m.Subject != "Score alert für dich" {
		t.Errorf("subject %q", m.Subject)
	}
	if m.Body != body {
		t.Errorf("body %q, want %q", m.Body, body)
	}
}

func TestSendRefusesHeaderInjection(t *testing.T) {
	s := mail.New(mail.Config{}, slog.New(slog.DiscardHandler))
	err := s.Send(context.Background(), mail.Message{To: []string{"a@example.test\r\nBcc: x@y"}, Subject: "s"})
	if !errors.Is(err, mail.ErrBadHeader) {
		t.Fatalf("err %v, want ErrBadHeader", err)
	}
}

// TestNoRelayLogsNoSecrets: without a relay, a message is logged as not
// sent, at every level without its body (links hold tokens); only a local
// pool that asks for bodies (LogBodies, dev) gets them.
func TestNoRelayLogsNoSecrets(t *testing.T) {
	m := mail.Message{To: []string{"a@example.test"}, Subject: "hi", Body: "link http://x/confirm/SECRETTOKEN"}
	var buf bytes.Buffer
	s := mail.New(mail.Config{}, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "SECRETTOKEN") || !strings.Contains(buf.String(), "not sent") || !strings.Contains(buf.String(), "subject=hi") {
		t.Errorf("log: %s", buf.String())
	}
	buf.Reset()
	s = mail.New(mail.Config{LogBodies: true}, slog.New(slog.NewTextHandler(&buf, nil)))
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "SECRETTOKEN") {
		t.Errorf("LogBodies: log lacks the body: %s", buf.String())
	}
}

func TestSMTPDialFailureIsAnError(t *testing.T) {
	s := mail.New(mail.Config{Host: "127.0.0.1", Port: 1, Timeout: 2 * time.Second}, slog.New(slog.DiscardHandler))
	if err := s.Send(context.Background(), mail.Message{To: []string{"a@example.test"}, Subject: "s"}); err == nil {
		t.Fatal("no error from a closed port")
	}
}
