package web

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// sessionCookie names the manage site's only cookie.
const sessionCookie = "ntppool_session"

// userHandler is a handler that runs with a logged-in user.
type userHandler func(w http.ResponseWriter, r *http.Request, u *store.User)

// auth runs h with the session's user, or sends the browser to log in.
// Manage pages are never cached.
func (s *Server) auth(h userHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		u, err := s.sessionUser(r)
		if errors.Is(err, store.ErrNotFound) {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			} else {
				s.errorPage(w, r, http.StatusUnauthorized, "Please log in again.")
			}
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		h(w, r, &u)
	}
}

// admin is auth for admins only.
func (s *Server) admin(h userHandler) http.HandlerFunc { return s.role(store.RoleAdmin, h) }

// role is auth for users holding role (admins hold every role).
func (s *Server) role(role string, h userHandler) http.HandlerFunc {
	return s.auth(func(w http.ResponseWriter, r *http.Request, u *store.User) {
		if !u.Has(role) {
			s.errorPage(w, r, http.StatusForbidden, "This page is for the pool's staff with the "+role+" role.")
			return
		}
		h(w, r, u)
	})
}

// staff is auth for users holding any role.
func (s *Server) staff(h userHandler) http.HandlerFunc {
	return s.auth(func(w http.ResponseWriter, r *http.Request, u *store.User) {
		if !u.Staff() {
			s.errorPage(w, r, http.StatusForbidden, "This page is for the pool's staff.")
			return
		}
		h(w, r, u)
	})
}

// audit records a staff action by u; a failure is logged, not shown: the
// action itself is done.
func (s *Server) audit(r *http.Request, u *store.User, action, subject, detail string) {
	err := s.st.Audit(r.Context(), store.AuditEntry{At: s.now(), UserID: u.ID, Actor: u.Email,
		Action: action, Subject: subject, Detail: detail})
	if err != nil {
		s.log.Error("web: audit log", "action", action, "subject", subject, "err", err)
	}
}

// sessionUser returns the user of the request's session cookie.
func (s *Server) sessionUser(r *http.Request) (store.User, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return store.User{}, store.ErrNotFound
	}
	return s.st.SessionUser(r.Context(), store.HashToken(c.Value), s.now())
}

// startSession stores a new session for u and sets its cookie.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, u store.User) error {
	tok := rand.Text()
	now := s.now()
	exp := now.Add(s.cfg.SessionTTL)
	if err := s.st.CreateSession(ctx, store.HashToken(tok), u.ID, now, exp); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: "/", Expires: exp, MaxAge: int(s.cfg.SessionTTL / time.Second),
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// endSession deletes the request's session and clears its cookie.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.st.DeleteSession(r.Context(), store.HashToken(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	return nil
}

// localPath keeps a redirect target on this site: a path, never "//host"
// or a scheme. Control characters are refused too: browsers drop tabs and
// line breaks from a Location, so "/<tab>/host" would be "//host" to them.
func localPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fallback
	}
	return next
}
