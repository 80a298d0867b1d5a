package store

import (
	"context"
	"fmt"
	"time"
)

// LogScore is one history row: a probe result (MonitorID set) or a change
// of the overall score (MonitorID 0).
type LogScore struct {
	ID        int64
	ServerID  int64
	MonitorID int64 // 0: overall score row
	Time      time.Time
	Step      float64
	Score     float64
	Offset    *float64 // seconds; nil when none
	RTT       *float64 // seconds; nil when none
	Leap      int      // 0 unless the server announced one
	Error     string
}

// AddLogScore appends a history row. Times are stored in whole seconds as
// the pool's history is (POOL.md), in milliseconds like every other time.
func (q q) AddLogScore(ctx context.Context, l LogScore) error {
	var leap any
	if l.Leap != 0 {
		leap = l.Leap
	}
	_, err := q.x.ExecContext(ctx, `INSERT INTO log_scores
		(server_id, monitor_id, ts, step, score, clock_offset, rtt, leap, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ServerID, nullID(l.MonitorID), l.Time.Truncate(time.Second).UnixMilli(), l.Step, l.Score,
		nullFloat(l.Offset), nullFloat(l.RTT), leap, l.Error)
	if err != nil {
		return fmt.Errorf("store: add log score of server %d: %w", l.ServerID, err)
	}
	return nil
}

// CountLogScores counts every history row (tests, metrics).
func (q q) CountLogScores(ctx context.Context) (int64, error) {
	var n int64
	if err := q.x.QueryRowContext(ctx, `SELECT count(*) FROM log_scores`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count log scores: %w", err)
	}
	return n, nil
}

// DeleteLogScoresBefore removes history older than t (retention) and
// returns how many rows went. It deletes in chunks of 5,000 rows, each its
// own transaction, so a large backlog never holds the write lock long
// enough to stall result ingestion.
func (q q) DeleteLogScoresBefore(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for {
		res, err := q.x.ExecContext(ctx, `DELETE FROM log_scores WHERE id IN
			(SELECT id FROM log_scores WHERE ts < ? LIMIT 5000)`, t.UnixMilli())
		if err != nil {
			return total, fmt.Errorf("store: delete old log scores: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: delete old log scores: %w", err)
		}
		total += n
		if n < 5000 {
			return total, nil
		}
	}
}
