package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type auditPage struct {
	Page
	Entries []store.AuditEntry
}

// listAudit shows the newest staff actions: who did what when.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, u *store.User) {
	es, err := s.st.AuditLog(r.Context(), adminListLimit)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_audit", auditPage{Page: s.page("Audit log", "admin", u), Entries: es})
}
