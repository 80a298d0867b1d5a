package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// zoneHistoryRow is one row of /zone/<name>.json, in POOL.md's shape.
type zoneHistoryRow struct {
	D  string `json:"d"`
	TS int64  `json:"ts"`
	RC int    `json:"rc"`
	AC int    `json:"ac"`
	W  int64  `json:"w"`
	IV string `json:"iv"`
}

// zoneJSON answers a zone's daily counts in date order. An optional limit
// thins them to about that many dates, always keeping the newest.
func (s *Server) zoneJSON(w http.ResponseWriter, r *http.Request, name string) {
	if !validZone(name) {
		writeJSONError(w, http.StatusNotFound, "no such zone")
		return
	}
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSONError(w, http.StatusBadRequest, "limit must be a positive number")
			return
		}
		limit = n
	}
	hist, err := s.st.ZoneCounts(r.Context(), name)
	if err != nil {
		s.log.Error("web: zone json", "zone", name, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "internal error")
		return
	}
	hist = thinDays(hist, limit)
	out := struct {
		History []zoneHistoryRow `json:"history"`
	}{History: make([]zoneHistoryRow, 0, len(hist))}
	for _, h := range hist {
		out.History = append(out.History, zoneHistoryRow{D: h.Day, TS: h.TS.Unix(), RC: h.Registered, AC: h.Active,
			W: h.Netspeed, IV: "v" + strconv.Itoa(h.IPVersion)})
	}
	writeJSON(w, http.StatusOK, out)
}

// thinDays keeps about limit distinct days of rows sorted by day, evenly
// spaced and counted back from the newest, which is always kept.
func thinDays(rows []store.ZoneCount, limit int) []store.ZoneCount {
	var days []string
	for _, r := range rows {
		if len(days) == 0 || days[len(days)-1] != r.Day {
			days = append(days, r.Day)
		}
	}
	if limit <= 0 || len(days) <= limit {
		return rows
	}
	step := (len(days) + limit - 1) / limit
	keep := make(map[string]bool)
	for i := len(days) - 1; i >= 0; i -= step {
		keep[days[i]] = true
	}
	var out []store.ZoneCount
	for _, r := range rows {
		if keep[r.Day] {
			out = append(out, r)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
