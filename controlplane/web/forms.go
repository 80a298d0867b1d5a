package web

import (
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// maxFormBytes bounds every form body.
const maxFormBytes = 64 << 10

// parseForm reads a bounded form body; on failure it answers 400 and
// reports false.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	return true
}

// fieldErrors maps a form field name to the message shown beside it.
type fieldErrors map[string]string

// minPassword is the shortest password accepted.
const minPassword = 10

// checkEmail normalises an address and says what is wrong with it.
func checkEmail(v string) (string, string) {
	v = strings.TrimSpace(v)
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 || !strings.Contains(v[strings.LastIndexByte(v, '@'):], ".") {
		return v, "Enter an email address such as name@example.com."
	}
	return strings.ToLower(v), ""
}

// checkPassword says what is wrong with a new password.
func checkPassword(v string) string {
	switch n := utf8.RuneCountInString(v); {
	case n < minPassword:
		return "Use at least 10 characters."
	case len(v) > 72:
		// bcrypt uses only the first 72 bytes.
		return "Use at most 72 bytes."
	}
	return ""
}

// hashPassword is store.HashPassword, counted.
func (s *Server) hashPassword(pw string) (string, error) {
	s.bcrypts.Add(1)
	return store.HashPassword(pw)
}

// passwordMatches is u.CheckPassword, counted.
func (s *Server) passwordMatches(u store.User, pw string) bool {
	s.bcrypts.Add(1)
	return u.CheckPassword(pw)
}
