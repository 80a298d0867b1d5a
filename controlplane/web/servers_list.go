package web

import (
	"context"
	"net/http"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/census"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// zoneShare is a server's expected share of one zone's DNS answers.
type zoneShare struct {
	Zone  string
	Share float64 // 0..1
}

type serverRow struct {
	ID         int64
	IP         string
	Score      float64
	State      string
	Netspeed   int64
	Country    string
	Zones      []zoneShare
	DeletionOn time.Time
	Verified   bool
}

type serversPage struct {
	Page
	Servers   []serverRow
	Claims    []store.Claim
	Addr      string
	Country   string
	Countries []string
	Errors    fieldErrors
}

// serverNotices are the confirmations redirects carry in ?done=.
var serverNotices = map[string]string{
	"added":     "The server was added. Its score starts at 0 and rises with every good probe. Verify it to raise its net speed.",
	"claimed":   "Another account holds that address. Your claim is listed below: it becomes your server once you verify it from the server itself.",
	"withdrawn": "The claim was withdrawn.",
	"verified":  "The server was marked verified.",
	"netspeed":  "The net speed was changed.",
	"country":   "The zone was changed.",
	"delete":    "The server's deletion is scheduled.",
	"undelete":  "The deletion was cancelled.",
	"invited":   "The invitation was sent.",
	"removed":   "The user was removed.",
	"revoked":   "The invitation was revoked.",
	"requested": "Your request was sent to the pool's administrators.",
}

// listServers is the manage site's home: the account's servers with score,
// state, zones and expected share of each zone's DNS answers, and the form
// to add one.
func (s *Server) listServers(w http.ResponseWriter, r *http.Request, u *store.User) {
	p, err := s.serversPage(r.Context(), u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.Notice = serverNotices[r.URL.Query().Get("done")]
	s.render(w, r, http.StatusOK, "servers", p)
}

func (s *Server) serversPage(ctx context.Context, u *store.User) (serversPage, error) {
	p := serversPage{Page: s.page("My servers", "manage", u), Countries: record.Countries()}
	srvs, err := s.st.ServersByAccount(ctx, u.AccountID)
	if err != nil {
		return p, err
	}
	c, err := s.census(ctx)
	if err != nil {
		return p, err
	}
	for _, srv := range srvs {
		p.Servers = append(p.Servers, s.serverRow(c, srv))
	}
	claims, err := s.st.AccountClaims(ctx, u.AccountID)
	// A lapsed claim waits only for the retention job to delete it.
	now := s.now()
	for _, c := range claims {
		if c.VerifyExpires.After(now) {
			p.Claims = append(p.Claims, c)
		}
	}
	return p, err
}

// serverRow describes one server, with its share of each of its zones:
// its weight over the sum of the weights of the zone's active servers of
// the same IP version.
func (s *Server) serverRow(c *counts, srv store.Server) serverRow {
	row := serverRow{ID: srv.ID, IP: srv.IP.String(), Score: srv.Score, State: s.serverState(srv),
		Netspeed: srv.Netspeed, Country: srv.Zone(), DeletionOn: srv.DeletionOn, Verified: !srv.VerifiedAt.IsZero()}
	w := float64(s.cfg.Score.Weight(s.now(), census.ScoreServer(srv)))
	for _, z := range census.ZonesOf(srv.Zone()) {
		share := 0.0
		if total := c.Get(z, census.IPVersion(srv)).Weight; w > 0 && total > 0 {
			share = min(1, w/float64(total))
		}
		row.Zones = append(row.Zones, zoneShare{Zone: z, Share: share})
	}
	return row
}
