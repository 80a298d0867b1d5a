package web

import (
	"errors"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/census"
	"github.com/ntppool-ng/ntppool/controlplane/graph"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type scoresPage struct {
	Page
	IP          string
	Server      store.Server
	State       string
	Zones       []string
	Monitors    []store.ServerMonitor
	ScoreChart  template.HTML
	OffsetChart template.HTML
	Recent      []store.LogRow
}

// showScores is /scores/<ip>: the server's score, state, zones, monitors
// and the history graph of its overall score, each monitor's score and the
// offsets they measured.
func (s *Server) showScores(w http.ResponseWriter, r *http.Request) {
	srv, err := s.scoreServerByIP(r)
	switch {
	case errors.Is(err, errBadParam):
		s.errorPage(w, r, http.StatusBadRequest, "That is not an IP address.")
		return
	case errors.Is(err, store.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, "No server with this address is in the pool.")
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	ctx := r.Context()
	now := s.now()
	points, err := s.st.ScoreGraph(ctx, srv.ID, now.Add(-logWindow), logMaxLimit)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	recent, err := s.st.ScoreLog(ctx, store.LogQuery{ServerID: srv.ID, Monitor: store.LogAllMonitor, After: now.Add(-logWindow), Limit: 60})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	mons, err := s.st.ServerMonitors(ctx, srv.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := scoresPage{Page: s.page("Score of "+srv.IP.String(), "", nil), IP: srv.IP.String(), Server: srv,
		State: s.serverState(srv), Zones: census.ZonesOf(srv.Zone()), Monitors: mons}
	p.ScoreChart, p.OffsetChart = scoreCharts(points, mons, now)
	for _, row := range recent {
		if row.MonitorID == 0 {
			continue
		}
		p.Recent = append(p.Recent, row)
		if len(p.Recent) == 20 {
			break
		}
	}
	s.render(w, r, http.StatusOK, "scores", p)
}

// scoreCharts draws the score chart (overall score bold, each monitor's
// thin) and the offset chart (a dot per probe) from rows, oldest first.
func scoreCharts(rows []store.GraphPoint, mons []store.ServerMonitor, now time.Time) (template.HTML, template.HTML) {
	order := map[int64]int{}
	names := map[int64]string{}
	for _, m := range mons {
		order[m.MonitorID] = len(order)
		names[m.MonitorID] = m.Name
	}
	overall := graph.Series{Name: "overall score", Color: "#212529", Width: 2.5}
	perScore := map[int64]*graph.Series{}
	perOffset := map[int64]*graph.Series{}
	maxOff := 0.0
	for _, row := range rows {
		if row.MonitorID == 0 {
			overall.Points = append(overall.Points, graph.Point{T: row.TS, V: row.Score})
			continue
		}
		if _, ok := order[row.MonitorID]; !ok {
			// A monitor no longer assigned: still drawn, by its id.
			order[row.MonitorID] = len(order)
			names[row.MonitorID] = "monitor " + strconv.FormatInt(row.MonitorID, 10)
		}
		color := graph.Palette[order[row.MonitorID]%len(graph.Palette)]
		sc := perScore[row.MonitorID]
		if sc == nil {
			sc = &graph.Series{Name: names[row.MonitorID], Color: color, Width: 1}
			perScore[row.MonitorID] = sc
		}
		sc.Points = append(sc.Points, graph.Point{T: row.TS, V: row.Score})
		if row.Offset.Valid {
			off := perOffset[row.MonitorID]
			if off == nil {
				off = &graph.Series{Name: names[row.MonitorID], Color: color, Dots: true, Width: 1.8}
				perOffset[row.MonitorID] = off
			}
			ms := row.Offset.Float64 * 1000
			off.Points = append(off.Points, graph.Point{T: row.TS, V: ms})
			maxOff = math.Max(maxOff, math.Abs(ms))
		}
	}
	ids := make([]int64, 0, len(order))
	for id := range order {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b int64) int { return order[a] - order[b] })
	var scoreSeries, offSeries []graph.Series
	for _, id := range ids {
		if sc := perScore[id]; sc != nil {
			scoreSeries = append(scoreSeries, *sc)
		}
		if off := perOffset[id]; off != nil {
			offSeries = append(offSeries, *off)
		}
	}
	// The overall score last, so it is drawn on top of the monitors'.
	scoreSeries = append(scoreSeries, overall)
	start := now.Add(-logWindow)
	if len(rows) > 0 && rows[0].TS.After(start) {
		start = rows[0].TS
	}
	scoreChart := graph.Chart{Title: "Score (overall and per monitor)", Height: 300, YFixed: true, YMin: -100, YMax: 25,
		Clamp: true, Start: start, End: now, Gap: 3 * time.Hour, Series: scoreSeries,
		Rules: []graph.Rule{{V: 10, Label: "in the DNS from 10"}}}
	// Offsets beyond ±1 s are drawn at the edge, so one wild probe does not
	// flatten the rest.
	lim := math.Min(1000, math.Max(1, maxOff))
	offChart := graph.Chart{Title: "Offset (ms, per monitor)", Height: 240, YFixed: true, YMin: -lim, YMax: lim,
		Clamp: true, YUnit: "", Start: start, End: now, Series: offSeries, Rules: []graph.Rule{{V: 0}}}
	return scoreChart.SVG(), offChart.SVG()
}
