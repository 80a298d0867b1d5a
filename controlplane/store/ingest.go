package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Set-at-a-time methods for batch ingestion: one statement per batch
// instead of one per result, because statement overhead, not SQLite's
// work, bounds the ingestion rate.

// ProbeTarget is a live server as a monitor's result finds it.
type ProbeTarget struct {
	ServerID int64
	IP       netip.Addr
	Stratum  int
	Score    float64 // overall score
	// LastScoreUpdate is zero when the server was never scored.
	LastScoreUpdate time.Time
	HasPair         bool    // the monitor has a row for the server
	PairScore       float64 // the monitor's score for it
}

// ProbeTargets looks up the live servers with the given addresses, each with
// the monitor's pair. Addresses without a live server are absent from the map.
func (q q) ProbeTargets(ctx context.Context, monitorID int64, ips []netip.Addr) (map[netip.Addr]ProbeTarget, error) {
	out := make(map[netip.Addr]ProbeTarget, len(ips))
	if len(ips) == 0 {
		return out, nil
	}
	args := []any{monitorID}
	for _, ip := range ips {
		args = append(args, ip.Unmap().String())
	}
	rows, err := q.x.QueryContext(ctx, `SELECT s.id, s.ip, s.stratum, s.score, s.last_score_update, ms.score
		FROM servers s LEFT JOIN monitor_servers ms ON ms.server_id = s.id AND ms.monitor_id = ?
		WHERE s.deleted_at IS NULL AND s.ip IN (`+placeholders(len(ips))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: probe targets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t ProbeTarget
		var ip string
		var lsu sql.NullInt64
		var pair sql.NullFloat64
		if err := rows.Scan(&t.ServerID, &ip, &t.Stratum, &t.Score, &lsu, &pair); err != nil {
			return nil, fmt.Errorf("store: probe targets: %w", err)
		}
		if t.IP, err = netip.ParseAddr(ip); err != nil {
			return nil, fmt.Errorf("store: probe targets: bad stored ip %q: %w", ip, err)
		}
		t.LastScoreUpdate = fromMS(lsu)
		t.HasPair, t.PairScore = pair.Valid, pair.Float64
		out[t.IP] = t
	}
	return out, rows.Err()
}

// maxRowsPerInsert keeps a multi-row statement under SQLite's 32,766
// bound parameters.
const maxRowsPerInsert = 1000

// AddLogScores appends history rows, up to maxRowsPerInsert per statement.
func (q q) AddLogScores(ctx context.Context, ls []LogScore) error {
	for len(ls) > maxRowsPerInsert {
		if err := q.AddLogScores(ctx, ls[:maxRowsPerInsert]); err != nil {
			return err
		}
		ls = ls[maxRowsPerInsert:]
	}
	if len(ls) == 0 {
		return nil
	}
	args := make([]any, 0, 9*len(ls))
	for _, l := range ls {
		var leap any
		if l.Leap != 0 {
			leap = l.Leap
		}
		args = append(args, l.ServerID, nullID(l.MonitorID), l.Time.Truncate(time.Second).UnixMilli(), l.Step, l.Score,
			nullFloat(l.Offset), nullFloat(l.RTT), leap, l.Error)
	}
	vals := strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(ls))
	_, err := q.x.ExecContext(ctx, `INSERT INTO log_scores
		(server_id, monitor_id, ts, step, score, clock_offset, rtt, leap, error) VALUES `+vals[:len(vals)-2], args...)
	if err != nil {
		return fmt.Errorf("store: add %d log scores: %w", len(ls), err)
	}
	return nil
}

// PairsOfServers lists the pairs of several servers, by server then monitor.
func (q q) PairsOfServers(ctx context.Context, serverIDs []int64) ([]MonitorServer, error) {
	if len(serverIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(serverIDs))
	for i, id := range serverIDs {
		args[i] = id
	}
	return q.pairs(ctx, "pairs of servers",
		`WHERE server_id IN (`+placeholders(len(serverIDs))+`) ORDER BY server_id, monitor_id`, args...)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ProbeUpdate is one pair's new score from a result.
type ProbeUpdate struct {
	ServerID int64
	Score    float64
	Step     float64 // counted in the pair's health
	Time     time.Time
	RTT      *float64
}

// RecordProbes stores several of one monitor's pairs' new scores in one
// statement (UPDATE … FROM VALUES: SQLite 3.33+ and PostgreSQL alike), and
// adds the probes to the pairs' health buckets (health.go; health window
// window) in another.
func (q q) RecordProbes(ctx context.Context, monitorID int64, ups []ProbeUpdate, window time.Duration) error {
	if len(ups) == 0 {
		return nil
	}
	args := make([]any, 0, 4*len(ups)+1)
	for _, u := range ups {
		args = append(args, u.ServerID, u.Score, u.Time.UnixMilli(), nullFloat(u.RTT))
	}
	args = append(args, monitorID)
	vals := strings.Repeat("(?, ?, ?, ?), ", len(ups))
	_, err := q.x.ExecContext(ctx, `UPDATE monitor_servers
		SET score = v.column2, last_probe = v.column3, last_rtt = v.column4
		FROM (VALUES `+vals[:len(vals)-2]+`) AS v
		WHERE monitor_servers.server_id = v.column1 AND monitor_servers.monitor_id = ?`, args...)
	if err != nil {
		return fmt.Errorf("store: record %d probes of monitor %d: %w", len(ups), monitorID, err)
	}
	return q.addHealth(ctx, monitorID, ups, window)
}

// ScoreUpdate is a server's new overall score.
type ScoreUpdate struct {
	ServerID int64
	Score    float64
}

// SetServerScores stores several overall scores computed at t in one
// statement.
func (q q) SetServerScores(ctx context.Context, ups []ScoreUpdate, t time.Time) error {
	if len(ups) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(ups)+1)
	args = append(args, t.UnixMilli())
	for _, u := range ups {
		args = append(args, u.ServerID, u.Score)
	}
	vals := strings.Repeat("(?, ?), ", len(ups))
	_, err := q.x.ExecContext(ctx, `UPDATE servers SET score = v.column2, last_score_update = ?
		FROM (VALUES `+vals[:len(vals)-2]+`) AS v WHERE servers.id = v.column1`, args...)
	if err != nil {
		return fmt.Errorf("store: set %d server scores: %w", len(ups), err)
	}
	return nil
}
