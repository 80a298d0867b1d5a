package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// showAdminHome sends staff to the first admin page their roles open.
func (s *Server) showAdminHome(w http.ResponseWriter, r *http.Request, u *store.User) {
	to := "/admin/audit"
	switch {
	case u.Has(store.RoleMonitorAdmin):
		to = "/admin/monitors"
	case u.Has(store.RoleSupport):
		to = "/admin/servers"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
