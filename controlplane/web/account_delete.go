package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// deleteAccount deletes the account after the user types their password:
// its servers leave the pool at once, its users and sessions are gone.
func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	// The password is checked only within the same limits as log-in, so a
	// stolen session cannot guess it fast, nor burn CPU on bcrypt.
	status, msg := 0, ""
	switch {
	case !s.limits.allow(s.now(), s.passwordLimits(r, u.Email)...):
		status, msg = http.StatusTooManyRequests, "Too many attempts. Please wait a minute and try again."
	case !s.passwordMatches(*u, r.PostFormValue("password")):
		status, msg = http.StatusUnprocessableEntity, "The password is wrong."
	}
	if msg != "" {
		p, err := s.accountPage(r.Context(), u)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		p.Errors = fieldErrors{"delete_password": msg}
		s.render(w, r, status, "account", p)
		return
	}
	if err := s.st.InTx(r.Context(), func(tx *store.Tx) error { return tx.DeleteAccount(r.Context(), u.AccountID, s.now()) }); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.invalidate()
	if err := s.endSession(w, r); err != nil {
		s.log.Warn("web: end session after account deletion", "err", err)
	}
	s.render(w, r, http.StatusOK, "account_deleted", s.page("Account deleted", "", nil))
}
