package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type ownMonitorsPage struct {
	Page
	Monitors []store.Monitor
	Form     monitorForm
	Errors   fieldErrors
}

// listOwnMonitors shows the account's monitors and the form to register
// one.
func (s *Server) listOwnMonitors(w http.ResponseWriter, r *http.Request, u *store.User) {
	p, err := s.ownMonitorsPage(r, u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "monitors", p)
}

func (s *Server) ownMonitorsPage(r *http.Request, u *store.User) (ownMonitorsPage, error) {
	mons, err := s.st.MonitorsByAccount(r.Context(), u.AccountID)
	return ownMonitorsPage{Page: s.page("My monitors", "monitors", u), Monitors: mons}, err
}
