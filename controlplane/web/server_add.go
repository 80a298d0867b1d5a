package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// ServerAdder registers a server for an account under the pool's rules
// (public address, not registered yet, answers NTP with a good stratum).
// country is the owner's choice, "" for GeoIP.
type ServerAdder interface {
	AddServer(ctx context.Context, accountID int64, addr, country string) (int64, error)
}

// FieldError is a refusal that names the form field it is about ("ip",
// "country"); its Error text is shown beside that field.
type FieldError interface {
	error
	Field() string
}

// addServer registers a server through the registry. A refusal is shown
// beside the field it concerns.
func (s *Server) addServer(w http.ResponseWriter, r *http.Request, u *store.User) {
	if !s.parseForm(w, r) {
		return
	}
	addr := strings.TrimSpace(r.PostFormValue("ip"))
	cc := strings.ToLower(strings.TrimSpace(r.PostFormValue("country")))
	errs := fieldErrors{}
	switch {
	case addr == "":
		errs["ip"] = "Enter the server's IPv4 or IPv6 address."
	case cc != "" && !record.ValidCountry(cc):
		errs["country"] = "Choose a country from the list."
	case s.reg == nil:
		errs["ip"] = "Adding servers is not available on this site."
	}
	var id int64
	if len(errs) == 0 {
		var err error
		id, err = s.reg.AddServer(r.Context(), u.AccountID, addr, cc)
		if fe, ok := errors.AsType[FieldError](err); ok {
			errs[fe.Field()] = fe.Error()
		} else if err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if len(errs) > 0 {
		p, err := s.serversPage(r.Context(), u)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		p.Addr, p.Country, p.Errors = addr, cc, errs
		s.render(w, r, http.StatusUnprocessableEntity, "servers", p)
		return
	}
	s.invalidate()
	http.Redirect(w, r, "/manage/servers/"+strconv.FormatInt(id, 10)+"?done=added", http.StatusSeeOther)
}
