package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// cancelInvitation revokes the account's pending invitations of an
// address; the store query is limited to the user's own account.
func (s *Server) cancelInvitation(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	err := s.st.CancelInvitation(r.Context(), u.AccountID, r.PostFormValue("email"))
	if s.storeFailed(w, r, err) {
		return
	}
	http.Redirect(w, r, "/manage/account?done=revoked", http.StatusSeeOther)
}
