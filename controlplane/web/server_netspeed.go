package web

import (
	"net/http"
	"slices"
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
	if err != nil || !slices.Contains(Netspeeds, v) {
		s.errorPage(w, r, http.StatusBadRequest, "Choose a net speed from the list.")
		return
	}
	if err := s.st.SetServerNetspeed(r.Context(), u.AccountID, srv.ID, v); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.invalidate()
	serverDone(w, r, srv.ID, "netspeed")
}
