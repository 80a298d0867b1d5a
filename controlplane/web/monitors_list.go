package web

import (
	"net/http"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type monitorRow struct {
	store.Monitor
	Health string // "ok", "silent" or "never seen"
}

type monitorsPage struct {
	Page
	Monitors []monitorRow
	States   []string
	Errors   fieldErrors
	Name     string
	Location string
}

// monitorSilentAfter is how long without contact marks a monitor silent.
const monitorSilentAfter = 15 * time.Minute

// listMonitors is the admin's list of monitors with state and health.
func (s *Server) listMonitors(w http.ResponseWriter, r *http.Request, u *store.User) {
	p, err := s.monitorsPage(r, u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_monitors", p)
}

func (s *Server) monitorsPage(r *http.Request, u *store.User) (monitorsPage, error) {
	p := monitorsPage{Page: s.page("Monitors", "admin", u),
		States: []string{store.MonitorPending, store.MonitorTesting, store.MonitorActive, store.MonitorPaused, store.MonitorDeleted}}
	mons, err := s.st.Monitors(r.Context())
	if err != nil {
		return p, err
	}
	now := s.now()
	for _, m := range mons {
		row := monitorRow{Monitor: m, Health: "ok"}
		switch {
		case m.LastSeen.IsZero():
			row.Health = "never seen"
		case now.Sub(m.LastSeen) > monitorSilentAfter:
			row.Health = "silent"
		}
		p.Monitors = append(p.Monitors, row)
	}
	return p, nil
}
