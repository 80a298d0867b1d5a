package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// deleteServer schedules the server's deletion a chosen number of days
// ahead (start of that UTC day). It leaves the DNS once the date is 14
// days away or less, and can be undone until the date.
func (s *Server) deleteServer(w http.ResponseWriter, r *http.Request, u *store.User) {
	srv, ok := s.ownServer(w, r, u)
	if !ok || !s.parseForm(w, r) {
		return
	}
	days, err := strconv.Atoi(r.PostFormValue("days"))
	if err != nil || !slices.Contains(DeletionDays, days) {
		s.renderServer(w, r, u, srv, http.StatusUnprocessableEntity, fieldErrors{"deletion": "Choose a deletion date from the list."})
		return
	}
	on := s.now().UTC().Truncate(24*time.Hour).AddDate(0, 0, days)
	s.changeDone(w, r, u, srv, "delete", s.reg.ScheduleDeletion(r.Context(), u.AccountID, srv.ID, on))
}
