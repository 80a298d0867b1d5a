package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// createMonitor is the monitor admins' form: a monitor of the pool itself
// (no account), in state testing, its token shown once.
func (s *Server) createMonitor(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	f, m, errs := s.readMonitorForm(r)
	m.State = store.MonitorTesting
	tok, err := s.createFormMonitor(r.Context(), m, errs)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(errs) > 0 {
		p, err := s.monitorsPage(r, u)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		p.Form, p.Errors = f, errs
		s.render(w, r, http.StatusUnprocessableEntity, "admin_monitors", p)
		return
	}
	s.audit(r, u, "monitor.create", "monitor "+m.Name, "state testing")
	s.render(w, r, http.StatusOK, "monitor_token", monitorTokenPage{Page: s.page("Monitor token", "admin", u),
		Name: m.Name, Token: tok, Back: "/admin/monitors"})
}
