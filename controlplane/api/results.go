package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

func (s *Server) saveResults(w http.ResponseWriter, r *http.Request, m store.Monitor) {
	var res monitorapi.Results
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, monitorapi.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.writeError(w, r, refuse(http.StatusRequestEntityTooLarge, "body too large"))
			return
		}
		s.writeError(w, r, refuse(http.StatusBadRequest, "malformed JSON: "+err.Error()))
		return
	}
	if dec.More() {
		s.writeError(w, r, refuse(http.StatusBadRequest, "malformed JSON: data after the object"))
		return
	}
	ack, err := s.Submit(r.Context(), m, res)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ack)
}

// Submit checks a batch whole and stores it in one transaction; the Ack
// it returns is for a committed batch.
func (s *Server) Submit(ctx context.Context, m store.Monitor, res monitorapi.Results) (monitorapi.Ack, error) {
	if err := s.validate(m, res); err != nil {
		return monitorapi.Ack{}, err
	}
	ack := monitorapi.Ack{BatchID: res.BatchID, Accepted: len(res.Results)}
	if len(res.Results) == 0 {
		// No ticket vouches for the batch id: recorded as the monitor's
		// newest, a made-up "zzz…" would refuse every real batch as older.
		// There is nothing to store, so nothing to replay either.
		return ack, nil
	}
	var changed []int64
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		changed = changed[:0]
		n, seen, err := tx.BatchAccepted(ctx, m.ID, res.BatchID)
		if err != nil {
			return err
		}
		if seen {
			ack.Accepted, ack.Duplicate = n, true
			return nil
		}
		cur, err := tx.Monitor(ctx, m.ID)
		if err != nil {
			return err
		}
		switch {
		case res.BatchID == cur.LastBatchID:
			// Committed before and forgotten by retention: still a replay.
			ack.Accepted, ack.Duplicate = 0, true
			return nil
		case res.BatchID < cur.LastBatchID:
			return refuse(http.StatusConflict, fmt.Sprintf("batch %s is older than the last one submitted", res.BatchID))
		}
		changed, err = s.ingest(ctx, tx, m.ID, res.Results)
		if err != nil {
			return err
		}
		return tx.RecordBatch(ctx, m.ID, res.BatchID, len(res.Results), s.cfg.Now())
	})
	if err != nil {
		return monitorapi.Ack{}, err
	}
	if ack.Duplicate {
		s.stats.Duplicates.Add(1)
	} else {
		s.stats.Batches.Add(1)
		s.stats.Results.Add(int64(ack.Accepted))
	}
	if len(changed) > 0 {
		s.cfg.OnScores(changed)
	}
	return ack, nil
}

// Bounds of a result's numbers. Beyond them a value is a forgery or a bug,
// and storing it would overflow the score pages' arithmetic (a rounded
// 1e300 is +Inf, which JSON cannot carry). An NTP era is 2^32 seconds, so
// no real clock is further off; no probe waits an hour for its answer.
const (
	maxOffset float64 = 1 << 32 // seconds
	maxRTT    float64 = 3600    // seconds
)

// validate refuses a batch that can never be stored, before any write.
func (s *Server) validate(m store.Monitor, res monitorapi.Results) error {
	bad := func(format string, a ...any) error { return refuse(http.StatusBadRequest, fmt.Sprintf(format, a...)) }
	if res.BatchID == "" || len(res.BatchID) > 64 {
		return bad("batch_id missing or longer than 64 characters")
	}
	if len(res.Results) > s.cfg.BatchMax {
		return refuse(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("%d results in one batch, at most %d", len(res.Results), s.cfg.BatchMax))
	}
	future := s.cfg.Now().Add(s.cfg.MaxFuture)
	// No probe finishes before its batch was handed out: an earlier stamp
	// would score the server with its time window counted back from a
	// moment long gone. The same slack as for the future allows for clocks.
	past := batchTime(res.BatchID).Add(-s.cfg.MaxFuture)
	seen := make(map[netip.Addr]bool, len(res.Results))
	for i, r := range res.Results {
		switch {
		case !r.IP.IsValid():
			return bad("result %d: missing ip", i)
		case seen[r.IP.Unmap()]:
			return bad("result %d: %s twice in one batch", i, r.IP)
		case r.Time.IsZero() || r.Time.After(future):
			return bad("result %d: ts missing or in the future", i)
		case r.Time.Before(past):
			return bad("result %d: ts before the batch was handed out", i)
		case r.Offset != nil && !(math.Abs(*r.Offset) <= maxOffset):
			return bad("result %d: offset is not a number of seconds within %g", i, maxOffset)
		case r.RTT != nil && !(*r.RTT >= 0 && *r.RTT <= maxRTT):
			return bad("result %d: rtt is not a number of seconds from 0 to %g", i, maxRTT)
		case r.Stratum < 0 || r.Stratum > 255 || r.Leap < 0 || r.Leap > 3:
			return bad("result %d: stratum or leap out of range", i)
		case len(r.Error) > 1024 || len(r.RefID) > 64 || len(r.KissCode) > 8:
			return bad("result %d: text field too long", i)
		}
		seen[r.IP.Unmap()] = true
	}
	for i, r := range res.Results {
		if !validTicket(s.cfg.TicketKey, m.ID, res.BatchID, r.IP, r.Ticket) {
			return refuse(http.StatusForbidden, fmt.Sprintf("result %d: ticket for %s is not valid for this monitor and batch", i, r.IP))
		}
	}
	return nil
}

// ingest scores each result against the pair's previous score, stores the
// probe rows, then recomputes the overall score of every server touched.
// It returns the servers whose overall score was updated. Reads and inserts
// are set-at-a-time (see store/ingest.go).
func (s *Server) ingest(ctx context.Context, tx *store.Tx, monitorID int64, results []monitorapi.Result) ([]int64, error) {
	results = slices.Clone(results)
	slices.SortStableFunc(results, func(a, b monitorapi.Result) int { return a.Time.Compare(b.Time) })
	ips := make([]netip.Addr, len(results))
	for i, r := range results {
		ips[i] = r.IP.Unmap()
	}
	targets, err := tx.ProbeTargets(ctx, monitorID, ips)
	if err != nil {
		return nil, err
	}
	logs := make([]store.LogScore, 0, 2*len(results))
	probes := make([]store.ProbeUpdate, 0, len(results))
	touched := make([]store.ProbeTarget, 0, len(results))
	newest := make([]time.Time, 0, len(results))
	for _, r := range results {
		t, ok := targets[r.IP.Unmap()]
		if !ok {
			continue // deleted since it was handed out: nothing to score
		}
		if !t.HasPair {
			return nil, refuse(http.StatusForbidden, fmt.Sprintf("server %s is not assigned to this monitor", r.IP))
		}
		step := s.cfg.Score.Step(score.FromResult(r))
		sc := s.cfg.Score.Next(t.PairScore, step)
		off := r.Offset
		if step.DropOffset {
			off = nil
		}
		logs = append(logs, store.LogScore{ServerID: t.ServerID, MonitorID: monitorID, Time: r.Time,
			Step: step.Value, Score: sc, Offset: off, RTT: r.RTT, Leap: r.Leap, Error: resultError(r)})
		probes = append(probes, store.ProbeUpdate{ServerID: t.ServerID, Score: sc, Step: step.Value, Time: r.Time, RTT: r.RTT})
		if r.Stratum >= 1 && r.Stratum <= 15 && r.Stratum != t.Stratum {
			if err := tx.SetServerStratum(ctx, t.ServerID, r.Stratum); err != nil {
				return nil, err
			}
		}
		touched = append(touched, t)
		newest = append(newest, r.Time)
	}
	// The pairs are read after this batch's updates: the median needs them.
	if err := tx.RecordProbes(ctx, monitorID, probes, s.cfg.Assign.HealthWindow); err != nil {
		return nil, err
	}
	ids := make([]int64, len(touched))
	for i, t := range touched {
		ids[i] = t.ServerID
	}
	pairs, err := tx.PairsOfServers(ctx, ids)
	if err != nil {
		return nil, err
	}
	byServer := make(map[int64][]store.MonitorServer, len(ids))
	for _, p := range pairs {
		byServer[p.ServerID] = append(byServer[p.ServerID], p)
	}
	var changed []int64
	var scores []store.ScoreUpdate
	for i, t := range touched {
		sc, l, ok := s.rescore(t, byServer[t.ServerID], newest[i])
		if ok {
			changed = append(changed, t.ServerID)
			scores = append(scores, store.ScoreUpdate{ServerID: t.ServerID, Score: sc})
		}
		if l != nil {
			logs = append(logs, *l)
		}
	}
	if err := tx.SetServerScores(ctx, scores, s.cfg.Now()); err != nil {
		return nil, err
	}
	return changed, tx.AddLogScores(ctx, logs)
}

// rescore recomputes a server's overall score ("recent median") at now, the
// newest result's time, from its pairs (read after this batch's updates).
// ok is false when no monitor qualifies (the score stays as it was); the
// history row is non-nil when the value changed.
func (s *Server) rescore(t store.ProbeTarget, pairs []store.MonitorServer, now time.Time) (float64, *store.LogScore, bool) {
	var buf [16]score.MonitorScore
	rows := buf[:0]
	for _, p := range pairs {
		st, err := score.ParseState(p.State)
		if err != nil || p.LastProbe.IsZero() {
			continue
		}
		rows = append(rows, score.MonitorScore{MonitorID: p.MonitorID, State: st, Score: p.Score,
			RTT: time.Duration(p.LastRTT * float64(time.Second)), Time: p.LastProbe})
	}
	chosen, ok := s.cfg.Score.RecentMedian(now, rows)
	if !ok {
		return 0, nil, false
	}
	if chosen.Score == t.Score && !t.LastScoreUpdate.IsZero() {
		return chosen.Score, nil, true
	}
	var rtt *float64
	if chosen.RTT > 0 {
		v := chosen.RTT.Seconds()
		rtt = &v
	}
	return chosen.Score, &store.LogScore{ServerID: t.ServerID, Time: now, Step: chosen.Score - t.Score, Score: chosen.Score, RTT: rtt}, true
}

// resultError is the error text kept in history: the monitor's text, or a
// short one for no response and kiss codes when it sent none. A monitor's
// text is shown on public pages and in CSV, so it is kept to printable
// characters on one line (the CSV writer also escapes a leading = + - @).
func resultError(r monitorapi.Result) string {
	switch {
	case r.Error != "":
		return printable(r.Error)
	case r.NoResponse:
		return "no response"
	case r.KissCode != "":
		return "kiss of death " + r.KissCode
	}
	return ""
}

// printable drops control and other non-printing characters, and invalid
// UTF-8, from monitor-supplied text.
func printable(v string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, v)
}
