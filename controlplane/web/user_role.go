package web

import (
	"net/http"
	"strconv"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// updateUserRole grants or revokes a role (admins only).
func (s *Server) updateUserRole(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	role, err := store.ParseRole(r.PostFormValue("role"))
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "Unknown role.")
		return
	}
	on := r.PostFormValue("grant") == "1"
	if id == u.ID && role == store.RoleAdmin && !on {
		s.errorPage(w, r, http.StatusBadRequest, "You cannot revoke your own admin role.")
		return
	}
	target, err := s.st.User(r.Context(), id)
	if err == nil {
		err = s.st.SetUserRole(r.Context(), id, role, on)
	}
	if s.storeFailed(w, r, err) {
		return
	}
	verb := "revoked"
	if on {
		verb = "granted"
	}
	s.audit(r, u, "user.role", "user "+target.Email, role+" "+verb)
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}
