package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// undeleteServer cancels a scheduled deletion that has not happened yet
// (a deleted server is no longer the account's to change).
func (s *Server) undeleteServer(w http.ResponseWriter, r *http.Request, u *store.User) {
	srv, ok := s.ownServer(w, r, u)
	if !ok {
		return
	}
	s.changeDone(w, r, u, srv, "undelete", s.reg.CancelDeletion(r.Context(), u.AccountID, srv.ID))
}
