package web

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type monitorTokenPage struct {
	Page
	Name  string
	Token string
}

// createMonitor adds a monitor (state testing) and shows its token once;
// only the token's hash is stored.
func (s *Server) createMonitor(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	loc := strings.TrimSpace(r.PostFormValue("location"))
	ipv := 4
	if r.PostFormValue("ip_version") == "6" {
		ipv = 6
	}
	errs := fieldErrors{}
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n/") {
		errs["name"] = "Use a short name without spaces, e.g. fra1."
	}
	tok := rand.Text()
	if len(errs) == 0 {
		_, err := s.st.CreateMonitor(r.Context(), store.Monitor{Name: name, Location: loc, IPVersion: ipv,
			TokenHash: store.HashToken(tok), State: store.MonitorTesting})
		if errors.Is(err, store.ErrConflict) {
			errs["name"] = "This name is taken."
		} else if err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if len(errs) > 0 {
		p, err := s.monitorsPage(r, u)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		p.Errors, p.Name, p.Location = errs, name, loc
		s.render(w, r, http.StatusUnprocessableEntity, "admin_monitors", p)
		return
	}
	s.render(w, r, http.StatusOK, "admin_monitor_token", monitorTokenPage{Page: s.page("Monitor token", "admin", u), Name: name, Token: tok})
}
