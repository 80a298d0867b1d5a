package web

import (
	"net/http"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// undeleteServer cancels a scheduled deletion that has not happened yet.
func (s *Server) undeleteServer(w http.ResponseWriter, r *http.Request, u *store.User) {
	srv, ok := s.ownServer(w, r, u)
	if !ok {
		return
	}
	if srv.DeletionOn.IsZero() {
		serverDone(w, r, srv.ID, "undelete")
		return
	}
	if err := s.st.SetServerDeletion(r.Context(), u.AccountID, srv.ID, time.Time{}); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.invalidate()
	serverDone(w, r, srv.ID, "undelete")
}
