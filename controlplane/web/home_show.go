package web

import (
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/census"
	"github.com/ntppool-ng/ntppool/record"
)

// zoneRow is one line of a server-count table.
type zoneRow struct {
	Zone   string
	Title  string
	V4, V6 int
}

type homePage struct {
	Page
	Continents []zoneRow
	Global     zoneRow
	All        zoneRow
	News       []newsItem
	Names      []string
}

// showHome is the front page: what the pool is, how to use it, active
// servers per continent, globally and in all, and the latest news. The
// counts come from the cached census, so this page does no per-server work.
func (s *Server) showHome(w http.ResponseWriter, r *http.Request) {
	c, err := s.census(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := homePage{Page: s.page("The pool of public NTP servers", "home", nil), Names: s.dnsNames(census.Global)}
	for _, z := range record.Continents {
		p.Continents = append(p.Continents, zoneRow{Zone: z, Title: zoneTitle(z), V4: c.Get(z, 4).Active, V6: c.Get(z, 6).Active})
	}
	p.Global = zoneRow{Zone: census.Global, Title: "Global", V4: c.Get(census.Global, 4).Active, V6: c.Get(census.Global, 6).Active}
	p.All = zoneRow{Zone: census.Global, Title: "All Pool Servers", V4: c.Get(census.Global, 4).Registered, V6: c.Get(census.Global, 6).Registered}
	news := s.newsItems()
	p.News = news[:min(3, len(news))]
	s.render(w, r, http.StatusOK, "home", p)
}
