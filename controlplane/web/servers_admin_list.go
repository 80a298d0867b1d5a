package web

import (
	"net/http"
	"strings"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type adminServersPage struct {
	Page
	Query   string
	Servers []serverRow
	Owners  map[int64]int64
}

// listAllServers is the admin's list of servers, filtered by address
// prefix, newest first, with a button to verify an unverified one.
func (s *Server) listAllServers(w http.ResponseWriter, r *http.Request, u *store.User) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	srvs, err := s.st.AdminServers(r.Context(), q, adminListLimit)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	c, err := s.census(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := adminServersPage{Page: s.page("Servers", "admin", u), Query: q, Owners: map[int64]int64{}}
	p.Notice = serverNotices[r.URL.Query().Get("done")]
	for _, srv := range srvs {
		p.Servers = append(p.Servers, s.serverRow(c, srv))
		p.Owners[srv.ID] = srv.AccountID
	}
	s.render(w, r, http.StatusOK, "admin_servers", p)
}
