package web

import (
	"net/http"
	"strconv"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// removeUser removes another user from the account. Removing oneself is
// deleting the account (or asking another user to remove you).
func (s *Server) removeUser(w http.ResponseWriter, r *http.Request, u *store.User) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	if id == u.ID {
		s.errorPage(w, r, http.StatusBadRequest, "You cannot remove yourself. Another user of the account can, or you can delete the account.")
		return
	}
	err = s.st.RemoveAccountUser(r.Context(), u.AccountID, id)
	if s.storeFailed(w, r, err) {
		return
	}
	http.Redirect(w, r, "/manage/account?done=removed", http.StatusSeeOther)
}
