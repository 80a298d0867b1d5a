package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// DeletionDays are the deletion dates offered, in days ahead.
var DeletionDays = []int{3, 4, 5, 6, 7, 10, 13, 16, 19, 22}

type serverPage struct {
	Page
	Server       serverRow
	Raw          store.Server
	Netspeeds    []netspeedOption
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
	s.renderServer(w, r, u, srv, http.StatusOK, nil)
}

func (s *Server) renderServer(w http.ResponseWriter, r *http.Request, u *store.User, srv store.Server, status int, errs fieldErrors) {
	c, err := s.census(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := serverPage{Page: s.page("Server "+srv.IP.String(), "manage", u), Server: s.serverRow(c, srv), Raw: srv,
		Netspeeds: netspeedOptions(srv.Netspeed, !srv.VerifiedAt.IsZero()), Countries: record.Countries(), DeletionDays: DeletionDays, Errors: errs}
	p.Notice = serverNotices[r.URL.Query().Get("done")]
	s.render(w, r, status, "server", p)
}

// netspeedOption is one entry of the net speed menu.
type netspeedOption struct {
	Value    int64
	Selected bool
}

// netspeedOptions is the pool's menu with the current value selected. A
// current value not in the menu (a new server's 10 Mbit) is offered too,
// so saving the form unchanged keeps it instead of picking the first entry.
// An unverified server is offered only values up to the current one.
func netspeedOptions(current int64, verified bool) []netspeedOption {
	var out []netspeedOption
	found := false
	for _, v := range registry.Netspeeds {
		if !verified && v > current {
			break
		}
		if !found && current < v {
			out = append(out, netspeedOption{current, true})
			found = true
		}
		out = append(out, netspeedOption{v, v == current})
		found = found || v == current
	}
	if !found {
		out = append(out, netspeedOption{current, true})
	}
	return out
}

// changeDone finishes a server change made through the registry: back to
// the server's page, or the page again with the refusal beside its field.
func (s *Server) changeDone(w http.ResponseWriter, r *http.Request, u *store.User, srv store.Server, done string, err error) {
	if fe, ok := errors.AsType[FieldError](err); ok {
		s.renderServer(w, r, u, srv, http.StatusUnprocessableEntity, fieldErrors{fe.Field(): fe.Error()})
		return
	}
	if s.storeFailed(w, r, err) {
		return
	}
	s.invalidate()
	serverDone(w, r, srv.ID, done)
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
	return srv, !s.storeFailed(w, r, err)
}

// serverDone redirects back to the server's page with a notice.
func serverDone(w http.ResponseWriter, r *http.Request, id int64, done string) {
	http.Redirect(w, r, "/manage/servers/"+strconv.FormatInt(id, 10)+"?done="+done, http.StatusSeeOther)
}
