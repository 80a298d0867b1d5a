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
	if !u.CheckPassword(r.PostFormValue("password")) {
		p, err := s.accountPage(r.Context(), u)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		p.Errors = fieldErrors{"delete_password": "The password is wrong."}
		s.render(w, r, http.StatusUnprocessableEntity, "account", p)
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
