package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type usersPage struct {
	Page
	Users []store.User
	Roles []string // the roles an admin can grant
}

// adminListLimit bounds the admin lists.
const adminListLimit = 500

// listUsers is the admin's list of users, newest first.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, u *store.User) {
	users, err := s.st.Users(r.Context(), adminListLimit)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_users", usersPage{Page: s.page("Users", "admin", u), Users: users,
		Roles: []string{store.RoleMonitorAdmin, store.RoleSupport, store.RoleAdmin}})
}
