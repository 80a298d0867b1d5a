package web

import (
	"crypto/rand"
	"net/http"
	"strconv"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// issueMonitorToken replaces any monitor's token (monitor admins) and shows
// the new one once; the old token stops working.
func (s *Server) issueMonitorToken(w http.ResponseWriter, r *http.Request, u *store.User) {
	s.newMonitorToken(w, r, u, 0)
}

// rotateOwnMonitorToken is the same for the owner of the monitor.
func (s *Server) rotateOwnMonitorToken(w http.ResponseWriter, r *http.Request, u *store.User) {
	s.newMonitorToken(w, r, u, u.AccountID)
}

// newMonitorToken replaces the token of monitor {id}, of account accountID
// (0: any account).
func (s *Server) newMonitorToken(w http.ResponseWriter, r *http.Request, u *store.User, accountID int64) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	var m store.Monitor
	if accountID == 0 {
		m, err = s.st.Monitor(r.Context(), id)
	} else {
		m, err = s.st.AccountMonitor(r.Context(), accountID, id)
	}
	tok := rand.Text()
	if err == nil {
		if accountID == 0 {
			err = s.st.SetMonitorToken(r.Context(), id, store.HashToken(tok))
		} else {
			err = s.st.SetAccountMonitorToken(r.Context(), accountID, id, store.HashToken(tok))
		}
	}
	if s.storeFailed(w, r, err) {
		return
	}
	p := monitorTokenPage{Page: s.page("Monitor token", "monitors", u), Name: m.Name, Token: tok, Back: "/manage/monitors"}
	if accountID == 0 {
		s.audit(r, u, "monitor.token", "monitor "+m.Name, "new token issued")
		p.Section, p.Back = "admin", "/admin/monitors"
	}
	s.render(w, r, http.StatusOK, "monitor_token", p)
}
