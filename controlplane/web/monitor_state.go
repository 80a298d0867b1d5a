package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// updateMonitorState sets a monitor's global state.
func (s *Server) updateMonitorState(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	state := r.PostFormValue("state")
	if !slices.Contains([]string{store.MonitorPending, store.MonitorTesting, store.MonitorActive, store.MonitorPaused, store.MonitorDeleted}, state) {
		s.errorPage(w, r, http.StatusBadRequest, "Unknown monitor state.")
		return
	}
	err = s.st.SetMonitorState(r.Context(), id, state)
	if s.storeFailed(w, r, err) {
		return
	}
	s.changed()
	http.Redirect(w, r, "/admin/monitors", http.StatusSeeOther)
}
