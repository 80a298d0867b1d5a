package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// monitorStates are the global states a monitor admin may set: approval
// is pending -> testing -> active; paused and deleted stop it.
var monitorStates = []string{store.MonitorPending, store.MonitorTesting, store.MonitorActive, store.MonitorPaused, store.MonitorDeleted}

// updateMonitorState sets a monitor's global state and logs who did it.
func (s *Server) updateMonitorState(w http.ResponseWriter, r *http.Request, u *store.User) {
	m, ok := s.formMonitor(w, r)
	if !ok {
		return
	}
	state := r.PostFormValue("state")
	if !slices.Contains(monitorStates, state) {
		s.errorPage(w, r, http.StatusBadRequest, "Unknown monitor state.")
		return
	}
	if s.storeFailed(w, r, s.st.SetMonitorState(r.Context(), m.ID, state)) {
		return
	}
	s.audit(r, u, "monitor.state", "monitor "+m.Name, m.State+" -> "+state)
	s.changed()
	http.Redirect(w, r, "/admin/monitors", http.StatusSeeOther)
}

// updateMonitorNAT lets a monitor call the API from any address (behind
// NAT) or only from its registered ones.
func (s *Server) updateMonitorNAT(w http.ResponseWriter, r *http.Request, u *store.User) {
	m, ok := s.formMonitor(w, r)
	if !ok {
		return
	}
	nat := r.PostFormValue("behind_nat") == "on"
	if s.storeFailed(w, r, s.st.SetMonitorBehindNAT(r.Context(), m.ID, nat)) {
		return
	}
	s.audit(r, u, "monitor.nat", "monitor "+m.Name, "behind NAT "+strconv.FormatBool(nat))
	http.Redirect(w, r, "/admin/monitors", http.StatusSeeOther)
}

// formMonitor parses a form posted to /admin/monitors/{id}/... and loads
// the monitor.
func (s *Server) formMonitor(w http.ResponseWriter, r *http.Request) (store.Monitor, bool) {
	if !s.parseForm(w, r) {
		return store.Monitor{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return store.Monitor{}, false
	}
	m, err := s.st.Monitor(r.Context(), id)
	if s.storeFailed(w, r, err) {
		return store.Monitor{}, false
	}
	return m, true
}
