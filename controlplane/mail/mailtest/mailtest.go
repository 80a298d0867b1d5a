// Package mailtest runs a small in-process SMTP server for tests: it accepts
// every message and hands it to the test, decoded.
package mailtest

import (
	"bufio"
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one received email.
type Message struct {
	From    string   // envelope sender
	To      []string // envelope recipients
	Subject string   // decoded
	Body    string   // decoded, LF line ends
	Header  mail.Header
}

// Server is a listening SMTP server.
type Server struct {
	ln   net.Listener
	msgs chan Message
	wg   sync.WaitGroup
}

// Start listens on a loopback port and serves until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{ln: ln, msgs: make(chan Message, 100)}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

// Host and Port are the address to configure as the relay.
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Next waits up to d for the next message; it fails the test on timeout.
func (s *Server) Next(t testing.TB, d time.Duration) Message {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(d):
		t.Fatalf("mailtest: no message within %v", d)
		return Message{}
	}
}

// Pending returns the messages received and not yet taken, without waiting.
func (s *Server) Pending() []Message {
	var out []Message
	for {
		select {
		case m := <-s.msgs:
			out = append(out, m)
		default:
			return out
		}
	}
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			s.serve(textproto.NewConn(c))
		}()
	}
}

func (s *Server) serve(c *textproto.Conn) {
	reply := func(code int, msg string) bool { return c.PrintfLine("%d %s", code, msg) == nil }
	if !reply(220, "mailtest ESMTP") {
		return
	}
	var from string
	var to []string
	for {
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			reply(250, "mailtest")
		case "MAIL":
			from, to = addrArg(arg), nil
			reply(250, "ok")
		case "RCPT":
			to = append(to, addrArg(arg))
			reply(250, "ok")
		case "DATA":
			if !reply(354, "go ahead") {
				return
			}
			raw, err := c.ReadDotBytes()
			if err != nil {
				return
			}
			if m, err := decode(from, to, raw); err == nil {
				s.msgs <- m
				reply(250, "queued")
			} else {
				reply(554, "bad message: "+err.Error())
			}
		case "RSET":
			from, to = "", nil
			reply(250, "ok")
		case "NOOP":
			reply(250, "ok")
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(502, "not implemented")
		}
	}
}

// addrArg takes the address out of "FROM:<a@b>" or "TO:<a@b>".
func addrArg(arg string) string {
	_, a, _ := strings.Cut(arg, ":")
	a = strings.TrimSpace(a)
	if i := strings.IndexByte(a, ' '); i >= 0 {
		a = a[:i]
	}
	return strings.Trim(a, "<>")
}

func decode(from string, to []string, raw []byte) (Message, error) {
	m, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(string(raw))))
	if err != nil {
		return Message{}, err
	}
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return Message{}, err
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return Message{}, err
	}
	return Message{From: from, To: to, Subject: subj, Body: strings.ReplaceAll(string(b), "\r\n", "\n"), Header: m.Header}, nil
}

// WaitFor waits until ctx ends for a message matching ok, dropping others.
func (s *Server) WaitFor(ctx context.Context, ok func(Message) bool) (Message, bool) {
	for {
		select {
		case m := <-s.msgs:
			if ok(m) {
				return m, true
			}
		case <-ctx.Done():
			return Message{}, false
		}
	}
}
