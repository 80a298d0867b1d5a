package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// staffServer parses a form posted to /admin/servers/{id}/... and loads
// the live server.
func (s *Server) staffServer(w http.ResponseWriter, r *http.Request) (store.Server, bool) {
	if !s.parseForm(w, r) {
		return store.Server{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return store.Server{}, false
	}
	srv, err := s.st.Server(r.Context(), id)
	if err == nil && !srv.DeletedAt.IsZero() {
		err = store.ErrNotFound
	}
	if s.storeFailed(w, r, err) {
		return store.Server{}, false
	}
	return srv, true
}

// updateServerInPool takes a server out of the pool (it leaves the DNS
// with the next publication) or puts it back: support's action.
func (s *Server) updateServerInPool(w http.ResponseWriter, r *http.Request, u *store.User) {
	srv, ok := s.staffServer(w, r)
	if !ok {
		return
	}
	in := r.PostFormValue("in_pool") == "1"
	if s.storeFailed(w, r, s.st.SetServerInPool(r.Context(), srv.ID, in)) {
		return
	}
	detail := "taken out of the pool"
	if in {
		detail = "put back in the pool"
	}
	if why := strings.TrimSpace(r.PostFormValue("reason")); why != "" {
		detail += ": " + why
	}
	s.audit(r, u, "server.pool", "server "+srv.IP.String(), detail)
	s.changed()
	http.Redirect(w, r, "/admin/servers?q="+srv.IP.String(), http.StatusSeeOther)
}

// updateServerZone sets a server's country zone ("" goes back to GeoIP):
// support's action, checked as the owner's is.
func (s *Server) updateServerZone(w http.ResponseWriter, r *http.Request, u *store.User) {
	srv, ok := s.staffServer(w, r)
	if !ok {
		return
	}
	cc := strings.ToLower(strings.TrimSpace(r.PostFormValue("country")))
	err := s.reg.SetCountry(r.Context(), 0, srv.ID, cc)
	if fe, ok := errors.AsType[*registry.FieldError](err); ok {
		s.errorPage(w, r, http.StatusUnprocessableEntity, fe.Error())
		return
	}
	if s.storeFailed(w, r, err) {
		return
	}
	s.audit(r, u, "server.zone", "server "+srv.IP.String(), "country "+srv.Zone()+" -> "+orGeoIP(cc))
	http.Redirect(w, r, "/admin/servers?q="+srv.IP.String(), http.StatusSeeOther)
}

func orGeoIP(cc string) string {
	if cc == "" {
		return "GeoIP"
	}
	return cc
}
