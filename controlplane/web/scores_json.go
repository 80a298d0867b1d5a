package web

import (
	"math"
	"net/http"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/census"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type scoreHistoryJSON struct {
	TS        int64    `json:"ts"`
	Offset    *float64 `json:"offset,omitempty"`
	Step      float64  `json:"step"`
	Score     float64  `json:"score"`
	MonitorID *int64   `json:"monitor_id,omitempty"`
	RTT       *float64 `json:"rtt,omitempty"`
	Leap      int      `json:"leap,omitempty"`
	Error     string   `json:"error,omitempty"`
}

type scoreMonitorJSON struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	TS     string   `json:"ts,omitempty"`
	Score  float64  `json:"score"`
	Status string   `json:"status"`
	AvgRTT *float64 `json:"avg_rtt,omitempty"`
}

type scoresJSONBody struct {
	History  []scoreHistoryJSON `json:"history"`
	Monitors []scoreMonitorJSON `json:"monitors"`
	Server   struct {
		IP string `json:"ip"`
	} `json:"server"`
}

// scoresJSON is /scores/<ip>/json: history rows and the monitors' current
// view, in POOL.md's shape (absent values omitted, rtt in ms).
func (s *Server) scoresJSON(w http.ResponseWriter, r *http.Request) {
	srv, rows, ok := s.scoreData(w, r)
	if !ok {
		return
	}
	mons, err := s.st.ServerMonitors(r.Context(), srv.ID)
	if s.dataError(w, err) {
		return
	}
	var out scoresJSONBody
	out.Server.IP = srv.IP.String()
	out.History = make([]scoreHistoryJSON, 0, len(rows))
	rtts := map[int64][2]float64{} // monitor -> sum, count (ms)
	for _, row := range rows {
		h := scoreHistoryJSON{TS: row.TS.Unix(), Step: round(row.Step, 9), Score: round(row.Score, 9), Leap: row.Leap, Error: row.Error}
		if row.Offset.Valid {
			h.Offset = ptr(round(row.Offset.Float64, 9))
		}
		if row.MonitorID != 0 {
			h.MonitorID = ptr(row.MonitorID)
		}
		if row.RTT.Valid {
			ms := row.RTT.Float64 * 1000
			h.RTT = ptr(round(ms, 9))
			a := rtts[row.MonitorID]
			rtts[row.MonitorID] = [2]float64{a[0] + ms, a[1] + 1}
		}
		out.History = append(out.History, h)
	}
	out.Monitors = append(out.Monitors, scoreMonitorJSON{Name: "recentmedian", Type: "score",
		TS: rfc3339(srv.LastScoreUpdate), Score: round(srv.Score, 1), Status: s.jsonStatus(srv)})
	for _, m := range mons {
		mj := scoreMonitorJSON{ID: m.MonitorID, Name: m.Name, Type: "monitor", TS: rfc3339(m.LastProbe),
			Score: round(m.Score, 1), Status: m.State}
		if a := rtts[m.MonitorID]; a[1] > 0 {
			mj.AvgRTT = ptr(round(a[0]/a[1], 3))
		} else if m.LastRTT.Valid {
			mj.AvgRTT = ptr(round(m.LastRTT.Float64*1000, 3))
		}
		out.Monitors = append(out.Monitors, mj)
	}
	writeJSON(w, http.StatusOK, out)
}

// jsonStatus is the overall entry's status: active when in the DNS.
func (s *Server) jsonStatus(srv store.Server) string {
	if srv.DeletedAt.IsZero() && srv.InPool && s.cfg.Score.InDNS(s.now(), census.ScoreServer(srv)) {
		return "active"
	}
	return "testing"
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// round rounds v to places decimals. A value too large to scale (1e300)
// has no decimals worth rounding and is kept: scaled, it would be +Inf,
// which JSON cannot carry.
func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	if r := math.Round(v*p) / p; !math.IsInf(r, 0) {
		return r
	}
	return v
}

func ptr[T any](v T) *T { return &v }
