package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Set-at-a-time methods for batch ingestion: a few statements for a whole
// group of batches instead of several per result, because statement
// overhead, not SQLite's work, bounds the ingestion rate. Row counts are
// kept to powers of two (rows.go) so the statements stay few and cached.

// ProbeTarget is a live server as a result finds it.
type ProbeTarget struct {
	ServerID int64
	IP       netip.Addr
	Stratum  int
	Score    float64 // overall score
	// LastScoreUpdate is the time of the result that last set Score; zero
	// when the server was never scored.
	LastScoreUpdate time.Time
}

// ProbeTargets looks up the live servers with the given addresses.
// Addresses without a live server are absent from the map.
func (q q) ProbeTargets(ctx context.Context, ips []netip.Addr) (map[netip.Addr]ProbeTarget, error) {
	out := make(map[netip.Addr]ProbeTarget, len(ips))
	err := padRows(ips, netip.Addr{}, func(chunk []netip.Addr) error {
		args := make([]any, len(chunk))
		for i, ip := range chunk {
			args[i] = ipArg(ip)
		}
		rows, err := q.x.QueryContext(ctx, `SELECT id, ip, stratum, score, last_score_update
			FROM servers WHERE deleted_at IS NULL AND ip IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t ProbeTarget
			var ip string
			var lsu sql.NullInt64
			if err := rows.Scan(&t.ServerID, &ip, &t.Stratum, &t.Score, &lsu); err != nil {
				return err
			}
			if t.IP, err = netip.ParseAddr(ip); err != nil {
				return fmt.Errorf("bad stored ip %q: %w", ip, err)
			}
			t.LastScoreUpdate = fromMS(lsu)
			out[t.IP] = t
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: probe targets: %w", err)
	}
	return out, nil
}

// PairScore is one row of a monitor's score history for a server.
type PairScore struct {
	Time        time.Time
	Score, Step float64
	RTT         float64 // seconds; 0 when none
}

// PairScoreAt is the monitor's newest score for the server at or before t
// (ok false when it has none), for the overall score of a result that is
// older than the pair's newest.
func (q q) PairScoreAt(ctx context.Context, monitorID, serverID int64, t time.Time) (PairScore, bool, error) {
	var p PairScore
	var ts int64
	var rtt sql.NullFloat64
	err := q.x.QueryRowContext(ctx, `SELECT ts, score, step, rtt FROM log_scores
		WHERE monitor_id = ? AND server_id = ? AND ts <= ? ORDER BY ts DESC LIMIT 1`,
		monitorID, serverID, t.UnixMilli()).Scan(&ts, &p.Score, &p.Step, &rtt)
	if errors.Is(err, sql.ErrNoRows) {
		return PairScore{}, false, nil
	}
	if err != nil {
		return PairScore{}, false, fmt.Errorf("store: score of monitor %d for server %d at %v: %w", monitorID, serverID, t, err)
	}
	p.Time, p.RTT = time.UnixMilli(ts).UTC(), rtt.Float64
	return p, true, nil
}

// maxRowsPerInsert keeps a multi-row statement under SQLite's 32,766
// bound parameters.
const maxRowsPerInsert = 1000

// AddLogScores appends history rows, a few statements for many rows.
func (q q) AddLogScores(ctx context.Context, ls []LogScore) error {
	return powerChunks(ls, func(ls []LogScore) error {
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
	})
}

// PairsOfServers lists the pairs of several servers, by server then monitor
// within each statement of at most maxPadded servers.
func (q q) PairsOfServers(ctx context.Context, serverIDs []int64) ([]MonitorServer, error) {
	var out []MonitorServer
	err := padRows(serverIDs, 0, func(chunk []int64) error {
		ps, err := q.pairs(ctx, "pairs of servers",
			`WHERE server_id IN (`+placeholders(len(chunk))+`) ORDER BY server_id, monitor_id`, int64Args(chunk)...)
		out = append(out, ps...)
		return err
	})
	return out, err
}

// PairKey names a (monitor, server) pair.
type PairKey struct{ MonitorID, ServerID int64 }

// PairsByKey reads the given pairs (absent ones are left out; a key given
// twice may come back twice).
func (q q) PairsByKey(ctx context.Context, keys []PairKey) ([]MonitorServer, error) {
	var out []MonitorServer
	err := padRows(keys, PairKey{}, func(chunk []PairKey) error {
		args := make([]any, 0, 2*len(chunk))
		for _, k := range chunk {
			args = append(args, k.MonitorID, k.ServerID)
		}
		ps, err := queryAll(ctx, q, "pairs by key", scanPair, `SELECT `+pairColsMS+`
			FROM monitor_servers ms JOIN (VALUES `+valuesList(len(chunk), "BIGINT", "BIGINT")+`) AS v
			ON ms.monitor_id = v.column1 AND ms.server_id = v.column2`, args...)
		out = append(out, ps...)
		return err
	})
	return out, err
}

// RecentPairs lists the active and testing pairs of the servers probed at
// or after since: all that the recent median's first two rules can use.
func (q q) RecentPairs(ctx context.Context, serverIDs []int64, since time.Time) ([]MonitorServer, error) {
	var out []MonitorServer
	err := padRows(serverIDs, 0, func(chunk []int64) error {
		ps, err := q.pairs(ctx, "recent pairs of servers", `WHERE server_id IN (`+placeholders(len(chunk))+`)
			AND state IN ('active', 'testing') AND last_probe >= ?`, append(int64Args(chunk), since.UnixMilli())...)
		out = append(out, ps...)
		return err
	})
	return out, err
}

// ipArg is an address as stored; the zero Addr (padding) is "", which no
// row has.
func ipArg(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	return ip.Unmap().String()
}

func int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

// valuesList is the rows of a VALUES list of n rows of placeholders, the
// first row's cast to types: PostgreSQL takes an untyped VALUES column for
// text, and the later rows follow the first's types.
func valuesList(n int, types ...string) string {
	var b strings.Builder
	b.WriteString("(")
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("CAST(? AS " + t + ")")
	}
	b.WriteString(")")
	row := ", (" + placeholders(len(types)) + ")"
	for range n - 1 {
		b.WriteString(row)
	}
	return b.String()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ProbeUpdate is one pair's new score from a result.
type ProbeUpdate struct {
	MonitorID, ServerID int64
	Score               float64
	Step                float64 // counted in the pair's health
	Time                time.Time
	RTT                 *float64
}

// RecordProbes stores pairs' new scores (UPDATE … FROM VALUES: SQLite
// 3.33+ and PostgreSQL alike), and adds the probes to the pairs' health
// buckets (health.go; health window window). ups are in time order per
// pair: a pair's last update is its new score, and every update counts in
// its health.
func (q q) RecordProbes(ctx context.Context, ups []ProbeUpdate, window time.Duration) error {
	// A padded statement repeats a row, which is harmless; two different
	// rows for one pair are not: keep each pair's last.
	last := make(map[PairKey]int, len(ups))
	for i, u := range ups {
		last[PairKey{u.MonitorID, u.ServerID}] = i
	}
	final := ups
	if len(last) < len(ups) {
		final = make([]ProbeUpdate, 0, len(last))
		for i, u := range ups {
			if last[PairKey{u.MonitorID, u.ServerID}] == i {
				final = append(final, u)
			}
		}
	}
	err := powerChunks(final, func(chunk []ProbeUpdate) error {
		args := make([]any, 0, 6*len(chunk))
		for _, u := range chunk {
			args = append(args, u.MonitorID, u.ServerID, u.Score, u.Time.UnixMilli(), nullFloat(u.RTT), u.Step)
		}
		vals := valuesList(len(chunk), "BIGINT", "BIGINT", "DOUBLE PRECISION", "BIGINT", "DOUBLE PRECISION", "DOUBLE PRECISION")
		_, err := q.x.ExecContext(ctx, `UPDATE monitor_servers
			SET score = v.column3, last_probe = v.column4, last_rtt = v.column5, last_step = v.column6
			FROM (VALUES `+vals+`) AS v
			WHERE monitor_servers.monitor_id = v.column1 AND monitor_servers.server_id = v.column2`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record %d probes: %w", len(final), err)
	}
	return q.addHealth(ctx, ups, window)
}

// ScoreUpdate is a server's new overall score, from the result of time
// Time.
type ScoreUpdate struct {
	ServerID int64
	Score    float64
	Time     time.Time
}

// SetServerScores stores several overall scores, each with the time of the
// result it came from; a server appears at most once. A score from a result
// not newer than the server's stored one is not stored: whatever the
// caller read, a late result never overwrites a newer overall score.
func (q q) SetServerScores(ctx context.Context, ups []ScoreUpdate) error {
	err := powerChunks(ups, func(chunk []ScoreUpdate) error {
		args := make([]any, 0, 3*len(chunk))
		for _, u := range chunk {
			args = append(args, u.ServerID, u.Score, u.Time.UnixMilli())
		}
		_, err := q.x.ExecContext(ctx, `UPDATE servers SET score = v.column2, last_score_update = v.column3
			FROM (VALUES `+valuesList(len(chunk), "BIGINT", "DOUBLE PRECISION", "BIGINT")+`) AS v
			WHERE servers.id = v.column1 AND (servers.last_score_update IS NULL OR servers.last_score_update < v.column3)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set %d server scores: %w", len(ups), err)
	}
	return nil
}

// BatchState is what a submission needs to know about its batch: the
// monitor's newest batch id, and whether this batch was committed (with how
// many results).
type BatchState struct {
	Last     string
	Accepted int
	Seen     bool
}

// MonitorBatch names a monitor's batch.
type MonitorBatch struct {
	MonitorID int64
	BatchID   string
}

// BatchStates reads the state of several batches in one statement; a
// batch of an unknown monitor is absent from the map.
func (q q) BatchStates(ctx context.Context, bs []MonitorBatch) (map[MonitorBatch]BatchState, error) {
	out := make(map[MonitorBatch]BatchState, len(bs))
	err := padRows(bs, MonitorBatch{}, func(chunk []MonitorBatch) error {
		args := make([]any, 0, 2*len(chunk))
		for _, b := range chunk {
			args = append(args, b.MonitorID, b.BatchID)
		}
		rows, err := q.x.QueryContext(ctx, `SELECT v.column1, v.column2, m.last_batch_id, b.accepted
			FROM (VALUES `+valuesList(len(chunk), "BIGINT", "TEXT")+`) AS v JOIN monitors m ON m.id = v.column1
			LEFT JOIN batches b ON b.monitor_id = v.column1 AND b.batch_id = v.column2`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k MonitorBatch
			var st BatchState
			var n sql.NullInt64
			if err := rows.Scan(&k.MonitorID, &k.BatchID, &st.Last, &n); err != nil {
				return err
			}
			st.Accepted, st.Seen = int(n.Int64), n.Valid
			out[k] = st
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: state of %d batches: %w", len(bs), err)
	}
	return out, nil
}

// BatchRecord is a committed batch.
type BatchRecord struct {
	MonitorID int64
	BatchID   string
	Accepted  int
}

// RecordBatches remembers committed batches and makes each monitor's
// newest its last_batch_id (which only grows), at t.
func (q q) RecordBatches(ctx context.Context, bs []BatchRecord, t time.Time) error {
	err := powerChunks(bs, func(chunk []BatchRecord) error {
		args := make([]any, 0, 4*len(chunk))
		for _, b := range chunk {
			args = append(args, b.MonitorID, b.BatchID, b.Accepted, t.UnixMilli())
		}
		vals := strings.Repeat("(?, ?, ?, ?), ", len(chunk))
		_, err := q.x.ExecContext(ctx, `INSERT INTO batches (monitor_id, batch_id, accepted, created_at)
			VALUES `+vals[:len(vals)-2], args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record %d batches: %w", len(bs), err)
	}
	newest := map[int64]string{}
	for _, b := range bs {
		newest[b.MonitorID] = max(newest[b.MonitorID], b.BatchID)
	}
	last := make([]BatchRecord, 0, len(newest))
	for m, id := range newest {
		last = append(last, BatchRecord{MonitorID: m, BatchID: id})
	}
	err = powerChunks(last, func(chunk []BatchRecord) error {
		args := make([]any, 0, 2*len(chunk)+1)
		args = append(args, t.UnixMilli())
		for _, b := range chunk {
			args = append(args, b.MonitorID, b.BatchID)
		}
		_, err := q.x.ExecContext(ctx, `UPDATE monitors SET last_batch_id = v.column2, last_seen = ?
			FROM (VALUES `+valuesList(len(chunk), "BIGINT", "TEXT")+`) AS v WHERE monitors.id = v.column1 AND monitors.last_batch_id < v.column2`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record %d batches: %w", len(bs), err)
	}
	return nil
}

// IngestPair is a pair as scoring reads it.
type IngestPair struct {
	MonitorID, ServerID int64
	State               string
	Score               float64
	LastProbe           time.Time // zero: never probed
	LastRTT             float64   // seconds; 0 when none
	LastStep            float64
}

// MonitorIP names a monitor's pair with the server at an address.
type MonitorIP struct {
	MonitorID int64
	IP        netip.Addr
}

// IngestView reads what a group of results needs: the live servers at
// the addresses of own and, of their pairs, those of own (the submitting
// monitors') and the active and testing ones probed at or after since
// (what the recent median's first two rules use). Addresses without a
// live server are absent from the map. Servers and pairs are two
// statements: joined, every pair row repeated its server's columns, and
// the pair filter could not use the (server_id, monitor_id) index.
func (q q) IngestView(ctx context.Context, own []MonitorIP, since time.Time) (map[netip.Addr]ProbeTarget, []IngestPair, error) {
	targets, err := q.IngestServers(ctx, own)
	if err != nil {
		return nil, nil, err
	}
	pairs, err := q.ingestPairs(ctx, targets, own, since)
	if err != nil {
		return nil, nil, err
	}
	return targets, pairs, nil
}

// IngestServers is IngestView's servers: the live ones at the addresses
// of own.
func (q q) IngestServers(ctx context.Context, own []MonitorIP) (map[netip.Addr]ProbeTarget, error) {
	seen := make(map[netip.Addr]bool, len(own))
	var ips []netip.Addr
	for _, k := range own {
		if ip := k.IP.Unmap(); !seen[ip] {
			seen[ip] = true
			ips = append(ips, ip)
		}
	}
	return q.ProbeTargets(ctx, ips)
}

// ingestPairs is IngestView's pairs of the servers targets.
func (q q) ingestPairs(ctx context.Context, targets map[netip.Addr]ProbeTarget, own []MonitorIP, since time.Time) ([]IngestPair, error) {
	var ids []int64
	var keys []pairID
	for _, k := range own {
		if t, ok := targets[k.IP.Unmap()]; ok {
			keys = append(keys, pairID{k.MonitorID, t.ServerID})
		}
	}
	for _, t := range targets {
		ids = append(ids, t.ServerID)
	}
	var pairs []IngestPair
	// Own pairs that are neither active nor testing nor recent are few:
	// read apart, the recent ones' statement needs no row-value list.
	err := padRows(ids, 0, func(ids []int64) error {
		args := make([]any, 0, 1+len(ids))
		args = append(args, since.UnixMilli())
		for _, id := range ids {
			args = append(args, id)
		}
		return q.scanIngestPairs(ctx, &pairs, `SELECT monitor_id, server_id, state, score, last_probe, last_rtt, last_step
			FROM monitor_servers WHERE state IN ('active', 'testing') AND last_probe >= ?
			AND server_id IN (`+placeholders(len(ids))+`)`, args...)
	})
	if err == nil {
		err = padRows(keys, pairID{}, func(keys []pairID) error {
			args := make([]any, 0, 1+2*len(keys))
			args = append(args, since.UnixMilli())
			for _, k := range keys {
				args = append(args, k.monitor, k.server)
			}
			return q.scanIngestPairs(ctx, &pairs, `SELECT monitor_id, server_id, state, score, last_probe, last_rtt, last_step
				FROM monitor_servers WHERE NOT (state IN ('active', 'testing') AND last_probe IS NOT NULL AND last_probe >= ?)
				AND (monitor_id, server_id) IN (VALUES `+valuesList(len(keys), "BIGINT", "BIGINT")+`)`, args...)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: ingest pairs of %d servers: %w", len(ids), err)
	}
	return pairs, nil
}

// pairID names a (monitor, server) pair in a row-value list.
type pairID struct{ monitor, server int64 }

// scanIngestPairs appends the pairs query returns to ps.
func (q q) scanIngestPairs(ctx context.Context, ps *[]IngestPair, query string, args ...any) error {
	rows, err := q.x.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var p IngestPair
		var probe sql.NullInt64
		var rtt, step sql.NullFloat64
		if err := rows.Scan(&p.MonitorID, &p.ServerID, &p.State, &p.Score, &probe, &rtt, &step); err != nil {
			return err
		}
		p.LastProbe, p.LastRTT, p.LastStep = fromMS(probe), rtt.Float64, step.Float64
		*ps = append(*ps, p)
	}
	return rows.Err()
}
