package web

import (
	"errors"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// saveReset sets the new password, confirms the address (the mail reached
// it) and ends every session of the user.
func (s *Server) saveReset(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	tok := r.PathValue("token")
	pw := r.PostFormValue("password")
	p := resetPage{Page: s.page("Choose a new password", "manage", nil), Token: tok}
	// The token is looked up before anything costly: a guessed token costs
	// one indexed read, never a bcrypt.
	if _, err := s.st.EmailTokenUser(r.Context(), store.HashToken(tok), store.TokenReset, s.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.errorPage(w, r, http.StatusNotFound, expiredLink)
		} else {
			s.serverError(w, r, err)
		}
		return
	}
	if e := checkPassword(pw); e != "" {
		p.Errors = fieldErrors{"password": e}
		s.render(w, r, http.StatusUnprocessableEntity, "reset_form", p)
		return
	}
	hash, err := s.hashPassword(pw)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ctx := r.Context()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		uid, err := tx.UseEmailToken(ctx, store.HashToken(tok), store.TokenReset, s.now())
		if err != nil {
			return err
		}
		if err := tx.SetUserPassword(ctx, uid, hash); err != nil {
			return err
		}
		if err := tx.ConfirmUserEmail(ctx, uid, s.now()); err != nil {
			return err
		}
		return tx.DeleteUserSessions(ctx, uid)
	})
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, expiredLink)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/login?done=reset", http.StatusSeeOther)
}

const expiredLink = "This link has expired or was used already. Please ask for a new one."
