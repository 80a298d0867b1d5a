// Package mail sends the control plane's email (address confirmations,
// password resets, invitations and score alerts) through an SMTP relay the
// operator configures. With no relay, it logs that a message was not sent
// (and, for the one-command pool only, the message itself).
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// Message is one plain-text email.
type Message struct {
	To      []string
	Subject string
	Body    string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Config is the relay to use. An empty Host means "log only".
type Config struct {
	Host     string
	Port     int // 0 means 25
	User     string
	Password string
	From     string
	// Timeout bounds one delivery; 0 means 30 s.
	Timeout time.Duration
	// LogBodies, with no Host, writes whole messages (links and their
	// tokens included) to the log: for a local pool only (dev), whose log
	// is the only way to read them. Otherwise only that a message was not
	// sent is logged, never its body.
	LogBodies bool
}

// ErrBadHeader reports a recipient or subject that would inject headers.
var ErrBadHeader = errors.New("mail: line break in a header value")

// New returns the Sender that cfg describes: SMTP when cfg.Host is set,
// otherwise one that logs each message to log.
func New(cfg Config, log *slog.Logger) Sender {
	if cfg.Host == "" {
		return &Log{Logger: log, Bodies: cfg.LogBodies}
	}
	if cfg.Port == 0 {
		cfg.Port = 25
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.From == "" {
		cfg.From = "ntppool@localhost"
	}
	return &SMTP{cfg: cfg}
}

// Log records that messages were not sent, instead of sending them.
type Log struct {
	Logger *slog.Logger
	// Bodies logs each message's body too (see Config.LogBodies).
	Bodies bool
}

// Send logs that m was not sent: recipients and subject, and its body only
// when Bodies is set.
func (l *Log) Send(_ context.Context, m Message) error {
	if err := m.check(); err != nil {
		return err
	}
	args := []any{"to", strings.Join(m.To, ", "), "subject", m.Subject}
	if l.Bodies {
		args = append(args, "body", m.Body)
	}
	l.Logger.Info("mail not sent: no SMTP relay configured", args...)
	return nil
}

// SMTP delivers through a relay, with STARTTLS when the relay offers it and
// PLAIN authentication when a user is configured.
type SMTP struct{ cfg Config }

// Send delivers m to every recipient in one SMTP transaction.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := m.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mail: dial %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("mail: greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("mail: starttls: %w", err)
		}
	}
	if s.cfg.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.User, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("mail: auth: %w", err)
		}
	}
	if err := c.Mail(s.cfg.From); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("mail: RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(m.format(s.cfg.From, time.Now())); err != nil {
		return fmt.Errorf("mail: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: end of message: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("mail: QUIT: %w", err)
	}
	return nil
}

func (m Message) check() error {
	if len(m.To) == 0 {
		return errors.New("mail: no recipient")
	}
	for _, v := range append([]string{m.Subject}, m.To...) {
		if strings.ContainsAny(v, "\r\n") {
			return ErrBadHeader
		}
	}
	return nil
}

// format builds the RFC 5322 message: UTF-8 text, quoted-printable, CRLF.
func (m Message) format(from string, now time.Time) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from)
	hdr("To", strings.Join(m.To, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", now.UTC().Format(time.RFC1123Z))
	domain := from[strings.LastIndexByte(from, '@')+1:]
	hdr("Message-ID", "<"+rand.Text()+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
