package web

import (
	"net/http"
	"strconv"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// updateServerNetspeed sets the net speed to one of the pool's values.
func (s *Server) updateServerNetspeed(w http.ResponseWriter, r *http.Request, u *store.User) {
	srv, ok := s.ownServer(w, r, u)
	if !ok || !s.parseForm(w, r) {
		return
	}
	v, err := strconv.ParseInt(r.PostFormValue("netspeed"), 10, 64)
	if err != nil {
		s.renderServer(w, r, u, srv, http.StatusUnprocessableEntity, fieldErrors{"netspeed": "Choose a net speed from the list."})
		return
	}
	if v == srv.Netspeed {
		// Unchanged, even when it is not in the menu (a new server's 10 Mbit).
		serverDone(w, r, srv.ID, "netspeed")
		return
	}
	s.changeDone(w, r, u, srv, "netspeed", s.reg.SetNetspeed(r.Context(), u.AccountID, srv.ID, v))
}
