package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// Registry adds and changes servers under the pool's rules
// (controlplane/registry): a public address not registered yet that
// answers NTP with a good stratum, net speeds from the menu, deletion dates
// ahead. Every method takes the account, and acts only on its servers.
// Refusals are FieldErrors.
type Registry interface {
	// AddServer registers addr; country is the owner's choice, "" for GeoIP.
	AddServer(ctx context.Context, accountID int64, addr, country string) (int64, error)
	SetNetspeed(ctx context.Context, accountID, serverID, speed int64) error
	SetCountry(ctx context.Context, accountID, serverID int64, cc string) error
	ScheduleDeletion(ctx context.Context, accountID, serverID int64, on time.Time) error
	CancelDeletion(ctx context.Context, accountID, serverID int64) error
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
