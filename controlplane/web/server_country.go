package web

import (
	"net/http"
	"strings"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// updateServerCountry sets the owner's zone choice; empty goes back to
// the GeoIP country.
func (s *Server) updateServerCountry(w http.ResponseWriter, r *http.Request, u *store.User) {
	srv, ok := s.ownServer(w, r, u)
	if !ok || !s.parseForm(w, r) {
		return
	}
	cc := strings.ToLower(strings.TrimSpace(r.PostFormValue("country")))
	if cc != "" && !record.ValidCountry(cc) {
		s.errorPage(w, r, http.StatusBadRequest, "Choose a country from the list.")
		return
	}
	if err := s.st.SetServerCountryOverride(r.Context(), u.AccountID, srv.ID, cc); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.invalidate()
	serverDone(w, r, srv.ID, "country")
}
