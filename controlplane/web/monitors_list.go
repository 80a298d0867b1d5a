package web

import (
	"net/http"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type monitorRow struct {
	store.Monitor
	Health string // "ok", "silent" or "never seen"
	Day    store.MonitorHealth
}

type monitorsPage struct {
	Page
	Monitors []monitorRow
	States   []string
	Errors   fieldErrors
	Form     monitorForm
}

// monitorSilentAfter is how long without contact marks a monitor silent.
const monitorSilentAfter = 15 * time.Minute

// monitorHealthWindow is the admin page's health window: a day, as the
// pool's selection looks at it.
const monitorHealthWindow = 24 * time.Hour

// listMonitors is the monitor admins' list: owner, addresses, state, and
// the last 24 hours' probes, average step and RTT.
func (s *Server) listMonitors(w http.ResponseWriter, r *http.Request, u *store.User) {
	p, err := s.monitorsPage(r, u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_monitors", p)
}

func (s *Server) monitorsPage(r *http.Request, u *store.User) (monitorsPage, error) {
	p := monitorsPage{Page: s.page("Monitors", "admin", u), States: monitorStates}
	mons, err := s.st.Monitors(r.Context())
	if err != nil {
		return p, err
	}
	now := s.now()
	day, err := s.st.MonitorHealths(r.Context(), now, monitorHealthWindow)
	if err != nil {
		return p, err
	}
	for _, m := range mons {
		row := monitorRow{Monitor: m, Health: "ok", Day: day[m.ID]}
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
