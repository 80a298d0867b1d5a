package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
)

// Per-pair health (probe count, average step, average RTT over the health
// window, 24 h in production) is kept exactly, in buckets of a 24th of the
// window (an hour): pair_health_hours holds per (monitor, server, bucket)
// the count, the sum of steps and the sum of RTTs, added to by
// RecordProbes in the batch's transaction. Reading sums the current bucket
// and the 24 before it, so the window read covers at least the full health
// window. Aggregating the probe history instead cost 7 s per 2 million
// rows, and a day of a 10,000-server pool holds about 17 million.

// healthBuckets is how many buckets the health window holds.
const healthBuckets = 24

// healthBucket is the start (Unix ms) of the bucket holding t.
func healthBucket(t time.Time, window time.Duration) int64 {
	w := max(window.Milliseconds()/healthBuckets, 1)
	ms := t.UnixMilli()
	return ms - ((ms%w)+w)%w
}

// healthWindowStart is the first bucket read for the window ending at now:
// the current bucket and the healthBuckets before it.
func healthWindowStart(now time.Time, window time.Duration) int64 {
	return healthBucket(now, window) - healthBuckets*max(window.Milliseconds()/healthBuckets, 1)
}

// Health is a pair's record over the health window.
type Health struct {
	Points  int64 // probes
	AvgStep float64
	AvgRTT  float64 // seconds; 0 when no probe had one
}

// PairStatus is a pair's state and health, as monitor selection needs them.
type PairStatus struct {
	MonitorID, ServerID int64
	State               string
	Health              Health
}

// PairStatuses lists every pair with its health over the window ending at
// now, by server.
func (q q) PairStatuses(ctx context.Context, now time.Time, window time.Duration) ([]PairStatus, error) {
	return q.PairStatusesOf(ctx, now, window, math.MinInt64, math.MaxInt64)
}

// PairStatusesOf lists the pairs of the servers with ids from first to last
// with their health over the window ending at now, by server then monitor:
// the scheduler's pass reads 50 x 10,000 of them or more, a range of
// servers at a time, and gets only what it needs. The pairs and their
// summed buckets come as two streams in key order (an index scan and a
// primary-key scan, neither sorted nor joined by the database), merged here.
func (q q) PairStatusesOf(ctx context.Context, now time.Time, window time.Duration, first, last int64) ([]PairStatus, error) {
	since := healthWindowStart(now, window)
	var state sql.RawBytes
	out, err := queryAll(ctx, q, "pair statuses", func(r rowScanner) (p PairStatus, err error) {
		err = r.Scan(&p.ServerID, &p.MonitorID, &state)
		p.State = pairState(state)
		return p, err
	}, `SELECT server_id, monitor_id, state FROM monitor_servers
		WHERE server_id BETWEEN ? AND ? ORDER BY server_id, monitor_id`, first, last)
	if err != nil {
		return nil, err
	}
	rows, err := q.x.QueryContext(ctx, `SELECT server_id, monitor_id, SUM(points), SUM(step_sum), SUM(rtt_sum), SUM(rtt_n)
		FROM pair_health_hours WHERE server_id BETWEEN ? AND ? AND hour >= ?
		GROUP BY server_id, monitor_id ORDER BY server_id, monitor_id`, first, last, since)
	if err != nil {
		return nil, fmt.Errorf("store: pair health: %w", err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var sid, mid, points, rttN int64
		var step, rtt float64
		if err := rows.Scan(&sid, &mid, &points, &step, &rtt, &rttN); err != nil {
			return nil, fmt.Errorf("store: pair health: %w", err)
		}
		for i < len(out) && (out[i].ServerID < sid || out[i].ServerID == sid && out[i].MonitorID < mid) {
			i++
		}
		if i == len(out) {
			break
		}
		if out[i].ServerID != sid || out[i].MonitorID != mid || points == 0 {
			continue // buckets of a pair that is gone
		}
		h := &out[i].Health
		h.Points, h.AvgStep = points, step/float64(points)
		if rttN > 0 {
			h.AvgRTT = rtt / float64(rttN)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pair health: %w", err)
	}
	return out, nil
}

// pairState is a stored state as one of the Pair* constants, so a pass over
// millions of pairs does not allocate a string for each.
func pairState(b []byte) string {
	for _, s := range [...]string{PairActive, PairTesting, PairCandidate, PairPaused} {
		if string(b) == s {
			return s
		}
	}
	return string(b)
}

// healthKey is one bucket of one pair.
type healthKey struct {
	monitorID, serverID, hour int64
}

type healthSums struct {
	points, rttN int64
	step, rtt    float64
}

// addHealth adds probes to their pairs' buckets: summed per bucket first
// (one statement may not touch a row twice), then one upsert.
func (q q) addHealth(ctx context.Context, ups []ProbeUpdate, window time.Duration) error {
	sums := make(map[healthKey]*healthSums, len(ups))
	keys := make([]healthKey, 0, len(ups))
	for _, u := range ups {
		k := healthKey{u.MonitorID, u.ServerID, healthBucket(u.Time, window)}
		s := sums[k]
		if s == nil {
			s = &healthSums{}
			sums[k] = s
			keys = append(keys, k)
		}
		s.points++
		s.step += u.Step
		if u.RTT != nil {
			s.rtt += *u.RTT
			s.rttN++
		}
	}
	return powerChunks(keys, func(chunk []healthKey) error {
		args := make([]any, 0, 7*len(chunk))
		for _, k := range chunk {
			s := sums[k]
			args = append(args, k.monitorID, k.serverID, k.hour, s.points, s.step, s.rtt, s.rttN)
		}
		vals := strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", len(chunk))
		_, err := q.x.ExecContext(ctx, `INSERT INTO pair_health_hours
			(monitor_id, server_id, hour, points, step_sum, rtt_sum, rtt_n) VALUES `+vals[:len(vals)-2]+`
			ON CONFLICT (monitor_id, server_id, hour) DO UPDATE SET
			points = pair_health_hours.points + excluded.points,
			step_sum = pair_health_hours.step_sum + excluded.step_sum,
			rtt_sum = pair_health_hours.rtt_sum + excluded.rtt_sum,
			rtt_n = pair_health_hours.rtt_n + excluded.rtt_n`, args...)
		if err != nil {
			return fmt.Errorf("store: add health of %d pairs: %w", len(chunk), err)
		}
		return nil
	})
}

// DeletePairHealthBefore drops health buckets that start before t (retention;
// selection reads one health window back). It returns how many went.
func (q q) DeletePairHealthBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := q.x.ExecContext(ctx, `DELETE FROM pair_health_hours WHERE hour < ?`, t.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: delete health before %v: %w", t, err)
	}
	return res.RowsAffected()
}
