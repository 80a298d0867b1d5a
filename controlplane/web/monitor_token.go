package web

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// issueMonitorToken replaces a monitor's token and shows the new one once;
// the old token stops working.
func (s *Server) issueMonitorToken(w http.ResponseWriter, r *http.Request, u *store.User) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	m, err := s.st.Monitor(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	tok := rand.Text()
	if err == nil {
		err = s.st.SetMonitorToken(r.Context(), id, store.HashToken(tok))
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_monitor_token", monitorTokenPage{Page: s.page("Monitor token", "admin", u), Name: m.Name, Token: tok})
}
