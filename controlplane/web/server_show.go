package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// Netspeeds are the net speed choices in kbit/s, as the pool offers them.
var Netspeeds = []int64{0, 512, 1500, 3000, 6000, 12000, 25000, 50000, 100000, 250000, 500000, 1000000, 1500000, 2000000, 3000000}

// DeletionDays are the deletion dates offered, in days ahead.
var DeletionDays = []int{3, 4, 5, 6, 7, 10, 13, 16, 19, 22}

type serverPage struct {
	Page
	Server       serverRow
	Raw          store.Server
	Netspeeds    []int64
	Countries    []string
	DeletionDays []int
	Errors       fieldErrors
}

// showServer is one server's manage page: net speed, zone and deletion.
func (s *Server) showServer(w http.ResponseWriter, r *http.Request, u *store.User) {
	srv, ok := s.ownServer(w, r, u)
	if !ok {
		return
	}
	c, err := s.census(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := serverPage{Page: s.page("Server "+srv.IP.String(), "manage", u), Server: s.serverRow(c, srv), Raw: srv,
		Netspeeds: Netspeeds, Countries: record.Countries(), DeletionDays: DeletionDays}
	p.Notice = serverNotices[r.URL.Query().Get("done")]
	s.render(w, r, http.StatusOK, "server", p)
}

// ownServer loads the server of the {id} path value if the user's account
// owns it; otherwise it answers 404 (the same for "not yours" and "none",
// so ids of other accounts' servers reveal nothing).
func (s *Server) ownServer(w http.ResponseWriter, r *http.Request, u *store.User) (store.Server, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return store.Server{}, false
	}
	srv, err := s.st.AccountServer(r.Context(), u.AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r)
		return store.Server{}, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return store.Server{}, false
	}
	return srv, true
}

// serverDone redirects back to the server's page with a notice.
func serverDone(w http.ResponseWriter, r *http.Request, id int64, done string) {
	http.Redirect(w, r, "/manage/servers/"+strconv.FormatInt(id, 10)+"?done="+done, http.StatusSeeOther)
}
