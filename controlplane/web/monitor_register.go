package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type monitorTokenPage struct {
	Page
	Name  string
	Token string
	Back  string // the page to go back to
}

// registerMonitor adds a monitor for the user's account, pending until a
// monitor admin approves it, and shows its token once; only the token's
// hash is stored. It watches the families it has an address of.
func (s *Server) registerMonitor(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	f, m, errs := s.readMonitorForm(r)
	m.AccountID, m.State = u.AccountID, store.MonitorPending
	tok, err := s.createFormMonitor(r.Context(), m, errs)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(errs) > 0 {
		p, err := s.ownMonitorsPage(r, u)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		p.Form, p.Errors = f, errs
		s.render(w, r, http.StatusUnprocessableEntity, "monitors", p)
		return
	}
	s.render(w, r, http.StatusOK, "monitor_token", monitorTokenPage{Page: s.page("Monitor token", "monitors", u),
		Name: m.Name, Token: tok, Back: "/manage/monitors"})
}
