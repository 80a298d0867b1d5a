package web

import (
	"errors"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// acceptInvite creates the invited user in the inviting account, with the
// address confirmed (the invitation reached it).
func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	p, in, ok := s.invitation(w, r)
	if !ok {
		return
	}
	ctx, tok := r.Context(), p.Token
	pw := r.PostFormValue("password")
	if e := checkPassword(pw); e != "" {
		p.Errors = fieldErrors{"password": e}
		s.render(w, r, http.StatusUnprocessableEntity, "invite_accept", p)
		return
	}
	hash, err := s.hashPassword(pw)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteInvitation(ctx, store.HashToken(tok)); err != nil {
			return err
		}
		_, err := tx.CreateUser(ctx, store.User{AccountID: in.AccountID, Email: in.Email, PasswordHash: hash, EmailConfirmedAt: s.now()})
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		p.Errors = fieldErrors{"password": "This address already has an account. Delete that account first, or ask for an invitation to another address."}
		s.render(w, r, http.StatusConflict, "invite_accept", p)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/login?done=joined", http.StatusSeeOther)
}
