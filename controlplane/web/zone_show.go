package web

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/census"
	"github.com/ntppool-ng/ntppool/controlplane/graph"
	"github.com/ntppool-ng/ntppool/record"
)

type zonePage struct {
	Page
	Zone      string
	ZoneTitle string
	Names     []string
	V4, V6    census.Stat
	Countries []zoneRow // on continent pages
	Chart     template.HTML
}

// showZone is a zone's page (/zone/de, /zone/europe, /zone/@): its servers
// now, the names to use and a graph of the daily counts. /zone/<name>.json
// is the same history as JSON.
func (s *Server) showZone(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	base, isJSON := strings.CutSuffix(name, ".json")
	// /zone/DE and /zone/gb are /zone/de and /zone/uk.
	if canon := canonicalZone(base); canon != base && validZone(canon) {
		if isJSON {
			canon += ".json"
		}
		http.Redirect(w, r, "/zone/"+canon, http.StatusMovedPermanently)
		return
	}
	if isJSON {
		s.zoneJSON(w, r, base)
		return
	}
	if !validZone(name) {
		s.notFound(w, r)
		return
	}
	c, err := s.census(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	hist, err := s.st.ZoneCounts(r.Context(), name)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := zonePage{Page: s.page(zoneTitle(name)+" zone", "", nil), Zone: name, ZoneTitle: zoneTitle(name),
		Names: s.dnsNames(name), V4: c.Get(name, 4), V6: c.Get(name, 6)}
	if record.IsContinent(name) {
		for _, cc := range record.Countries() {
			if record.Continent(cc) != name {
				continue
			}
			v4, v6 := c.Get(cc, 4), c.Get(cc, 6)
			if v4.Registered+v6.Registered > 0 {
				p.Countries = append(p.Countries, zoneRow{Zone: cc, Title: zoneTitle(cc), V4: v4.Active, V6: v6.Active})
			}
		}
	}
	var series [4]graph.Series
	series[0].Name, series[1].Name, series[2].Name, series[3].Name = "IPv4 active", "IPv4 registered", "IPv6 active", "IPv6 registered"
	series[1].Color, series[3].Color = "#8fb3e8", "#f0a982"
	series[0].Color, series[2].Color = graph.Palette[0], graph.Palette[1]
	for _, h := range hist {
		i := 0
		if h.IPVersion == 6 {
			i = 2
		}
		series[i].Points = append(series[i].Points, graph.Point{T: h.TS, V: float64(h.Active)})
		series[i+1].Points = append(series[i+1].Points, graph.Point{T: h.TS, V: float64(h.Registered)})
	}
	p.Chart = graph.Chart{Title: "Servers in the " + zoneTitle(name) + " zone, per day", Height: 280,
		Gap: 3 * 24 * time.Hour, Series: series[:]}.SVG()
	s.render(w, r, http.StatusOK, "zone", p)
}
