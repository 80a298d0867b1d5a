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
	// Roles are read and written back: one transaction, so two admins
	// changing one user's roles at once cannot lose a change.
	var target store.User
	err = s.st.InTx(r.Context(), func(tx *store.Tx) error {
		var err error
		if target, err = tx.User(r.Context(), id); err != nil {
			return err
		}
		return tx.SetUserRole(r.Context(), id, role, on)
	})
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
