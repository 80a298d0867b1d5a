package web

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// scoresLog is /scores/<ip>/log: the score history as CSV (text/plain), with
// limit, monitor and since as the pool has them.
func (s *Server) scoresLog(w http.ResponseWriter, r *http.Request) {
	_, rows, ok := s.scoreData(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"ts_epoch", "ts", "offset", "step", "score", "monitor_id", "monitor_name", "rtt", "leap", "error"})
	for _, row := range rows {
		rec := []string{strconv.FormatInt(row.TS.Unix(), 10), row.TS.UTC().Format("2006-01-02 15:04:05"), "",
			fmtNum(row.Step), fmtNum(row.Score), "", "recentmedian", "", "", inertCell(row.Error)}
		if row.Offset.Valid {
			rec[2] = fmtNum(row.Offset.Float64)
		}
		if row.MonitorID != 0 {
			rec[5], rec[6] = strconv.FormatInt(row.MonitorID, 10), inertCell(row.MonitorName)
		}
		if row.RTT.Valid {
			rec[7] = fmtNum(row.RTT.Float64 * 1000)
		}
		if row.Leap != 0 {
			rec[8] = strconv.Itoa(row.Leap)
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
}

// inertCell keeps a text cell from being run as a formula by a spreadsheet
// that opens the CSV: a cell starting with = + - @ (or a tab or carriage
// return, which some strip before looking) gets a leading apostrophe.
// Monitors supply the error text, so it is not trusted.
func inertCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// scoreData loads the server and the history rows that the request's
// parameters select, for the JSON and CSV forms; on failure it has
// answered and ok is false.
func (s *Server) scoreData(w http.ResponseWriter, r *http.Request) (srv store.Server, rows []store.LogRow, ok bool) {
	if !s.allowScoreData(r) {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many large score requests from your network; wait a little, or ask for fewer rows (limit)", http.StatusTooManyRequests)
		return srv, nil, false
	}
	srv, err := s.scoreServerByIP(r)
	if s.dataError(w, err) {
		return srv, nil, false
	}
	lq, err := s.logQuery(r, srv.ID)
	if s.dataError(w, err) {
		return srv, nil, false
	}
	rows, err = s.st.ScoreLog(r.Context(), lq)
	return srv, rows, !s.dataError(w, err)
}

// allowScoreData limits large score requests (more rows than the default
// 100, up to 10,000) per client: each costs a scan of the score log, so
// one client must not be able to keep the database busy with them. Small
// requests, what the pages and most scripts ask for, are not limited.
func (s *Server) allowScoreData(r *http.Request) bool {
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n <= logDefaultLimit {
		return true
	}
	return s.limits.allow(s.now(), limit{tableClients, rule{s.cfg.ScoreDataRate, s.cfg.ScoreDataBurst}, keyOf("score-data", s.clientKey(r))})
}

// dataError answers err on the machine-readable score endpoints and
// reports whether there was one.
func (s *Server) dataError(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, errBadParam):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, "no such server", http.StatusNotFound)
	default:
		s.log.Error("web: score data", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
	return true
}
