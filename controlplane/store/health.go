package store

import (
	"context"
	"database/sql"
	"time"
)

// Per-pair health (probe count, average step, average RTT over the health
// window, 24 h in production) is kept as two running buckets on the pair
// row, updated by RecordProbes in the statement that stores the score:
// the current bucket (window-aligned) and the one before it. Reading
// counts the previous bucket by the share of it still inside the window,
// the usual sliding-window estimate. Aggregating the probe history
// instead cost 7 s per 2 million rows, and a day of a 10,000-server pool
// holds about 17 million.

// healthSet is the SET clause that adds one probe (v.column5: its bucket,
// v.column6: its step, v.column4: its RTT or NULL) to a pair's buckets.
// Every expression reads the row as it was before the update.
const healthSet = `
	hp_points = CASE WHEN v.column5 = health_bucket + 1 THEN hc_points WHEN v.column5 > health_bucket + 1 THEN 0 ELSE hp_points END,
	hp_step   = CASE WHEN v.column5 = health_bucket + 1 THEN hc_step   WHEN v.column5 > health_bucket + 1 THEN 0 ELSE hp_step END,
	hp_rtt    = CASE WHEN v.column5 = health_bucket + 1 THEN hc_rtt    WHEN v.column5 > health_bucket + 1 THEN 0 ELSE hp_rtt END,
	hp_rtt_n  = CASE WHEN v.column5 = health_bucket + 1 THEN hc_rtt_n  WHEN v.column5 > health_bucket + 1 THEN 0 ELSE hp_rtt_n END,
	hc_points = CASE WHEN v.column5 > health_bucket THEN 1 ELSE hc_points + 1 END,
	hc_step   = CASE WHEN v.column5 > health_bucket THEN v.column6 ELSE hc_step + v.column6 END,
	hc_rtt    = CASE WHEN v.column5 > health_bucket THEN COALESCE(v.column4, 0) ELSE hc_rtt + COALESCE(v.column4, 0) END,
	hc_rtt_n  = CASE WHEN v.column4 IS NULL THEN 0 ELSE 1 END + CASE WHEN v.column5 > health_bucket THEN 0 ELSE hc_rtt_n END,
	health_bucket = CASE WHEN v.column5 > health_bucket THEN v.column5 ELSE health_bucket END`

// Health is a pair's record over the health window.
type Health struct {
	Points  float64 // probes (estimated, see above)
	AvgStep float64
	AvgRTT  float64 // seconds; 0 when no probe had one
}

// PairStatus is a pair's state and health, as monitor selection needs them.
type PairStatus struct {
	MonitorID, ServerID int64
	State               string
	Health              Health
}

// healthSQL estimates the window's sums from the two buckets: the
// current bucket whole plus the previous one by the share still inside the
// window (args: current bucket, share, current bucket - 1, share). The
// share is cast: PostgreSQL would take it for an integer like the column.
func healthSQL(cur, prev string) string {
	return `CASE WHEN health_bucket = ? THEN ` + cur + ` + ` + prev + ` * CAST(? AS DOUBLE PRECISION)
		WHEN health_bucket = ? THEN ` + cur + ` * CAST(? AS DOUBLE PRECISION) ELSE 0 END`
}

// PairStatuses lists every pair with its health over window ending at now,
// in no particular order: the scheduler's pass over all servers reads 50 x
// 10,000 of them, so it gets only what it needs, the estimate done in SQL.
func (q q) PairStatuses(ctx context.Context, now time.Time, window time.Duration) ([]PairStatus, error) {
	w := max(window.Milliseconds(), 1)
	cur := now.UnixMilli() / w
	frac := 1 - float64(now.UnixMilli()%w)/float64(w) // share of the previous bucket still in the window
	var args []any
	for range 4 {
		args = append(args, cur, frac, cur-1, frac)
	}
	points, step, rtt, rttN := healthSQL("hc_points", "hp_points"), healthSQL("hc_step", "hp_step"),
		healthSQL("hc_rtt", "hp_rtt"), healthSQL("hc_rtt_n", "hp_rtt_n")
	return queryAll(ctx, q, "pair statuses", func(r rowScanner) (p PairStatus, err error) {
		var avgStep, avgRTT sql.NullFloat64
		err = r.Scan(&p.MonitorID, &p.ServerID, &p.State, &p.Health.Points, &avgStep, &avgRTT)
		p.Health.AvgStep, p.Health.AvgRTT = avgStep.Float64, avgRTT.Float64
		return p, err
	}, `SELECT monitor_id, server_id, state, h.points, h.step / NULLIF(h.points, 0), h.rtt / NULLIF(h.rtt_n, 0)
		FROM (SELECT monitor_id, server_id, state, `+points+` AS points, `+step+` AS step, `+rtt+` AS rtt, `+rttN+` AS rtt_n
			FROM monitor_servers) AS h`, args...)
}
