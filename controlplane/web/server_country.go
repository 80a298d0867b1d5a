package web

import (
	"net/http"
	"strings"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// updateServerCountry sets the owner's zone choice; empty goes back to
// the GeoIP country.
func (s *Server) updateServerCountry(w http.ResponseWriter, r *http.Request, u *store.User) {
	srv, ok := s.ownServer(w, r, u)
	if !ok || !s.parseForm(w, r) {
		return
	}
	cc := strings.ToLower(strings.TrimSpace(r.PostFormValue("country")))
	s.changeDone(w, r, u, srv, "country", s.reg.SetCountry(r.Context(), u.AccountID, srv.ID, cc))
}
