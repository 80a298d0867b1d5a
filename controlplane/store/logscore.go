package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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

// Score history queries for the public score pages.

// LogRow is one row of a server's score history: a probe by a monitor, or
// an overall score change (MonitorID 0).
type LogRow struct {
	TS          time.Time
	MonitorID   int64
	MonitorName string
	Step        float64
	Score       float64
	Offset      sql.NullFloat64 // seconds
	RTT         sql.NullFloat64 // seconds
	Leap        int
	Error       string
}

// Monitor filters of LogQuery.
const (
	LogOverall    int64 = 0  // the overall-score rows only
	LogAllMonitor int64 = -1 // every monitor's rows and the overall rows
)

// LogQuery selects history rows of one server.
type LogQuery struct {
	ServerID int64
	Monitor  int64 // LogOverall, LogAllMonitor or a monitor id
	// Since, when set, returns rows after it, oldest first. Otherwise the
	// rows from After on, newest first.
	Since time.Time
	After time.Time
	Limit int
}

// ScoreLog returns the history rows lq selects.
func (q q) ScoreLog(ctx context.Context, lq LogQuery) ([]LogRow, error) {
	where := `l.server_id = ?`
	args := []any{lq.ServerID}
	switch lq.Monitor {
	case LogOverall:
		where += ` AND l.monitor_id IS NULL`
	case LogAllMonitor:
	default:
		where += ` AND l.monitor_id = ?`
		args = append(args, lq.Monitor)
	}
	order := `DESC`
	if !lq.Since.IsZero() {
		where += ` AND l.ts > ?`
		args = append(args, lq.Since.UnixMilli())
		order = `ASC`
	} else if !lq.After.IsZero() {
		where += ` AND l.ts >= ?`
		args = append(args, lq.After.UnixMilli())
	}
	args = append(args, lq.Limit)
	rows, err := q.x.QueryContext(ctx, `SELECT l.ts, COALESCE(l.monitor_id, 0), COALESCE(m.name, ''), l.step, l.score,
		l.clock_offset, l.rtt, COALESCE(l.leap, 0), l.error
		FROM log_scores l LEFT JOIN monitors m ON m.id = l.monitor_id
		WHERE `+where+` ORDER BY l.ts `+order+`, l.id `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: score log of server %d: %w", lq.ServerID, err)
	}
	defer rows.Close()
	var out []LogRow
	for rows.Next() {
		var r LogRow
		var ts int64
		if err := rows.Scan(&ts, &r.MonitorID, &r.MonitorName, &r.Step, &r.Score, &r.Offset, &r.RTT, &r.Leap, &r.Error); err != nil {
			return nil, fmt.Errorf("store: score log of server %d: %w", lq.ServerID, err)
		}
		r.TS = time.UnixMilli(ts).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// ServerMonitor is a monitor's view of one server.
type ServerMonitor struct {
	MonitorID    int64
	Name         string
	Location     string
	MonitorState string // the monitor's global state
	State        string // its state for this server: candidate, testing, active, paused
	Score        float64
	LastProbe    time.Time
	LastRTT      sql.NullFloat64 // seconds
}

// ServerMonitors lists the monitors watching a server, active first.
func (q q) ServerMonitors(ctx context.Context, serverID int64) ([]ServerMonitor, error) {
	rows, err := q.x.QueryContext(ctx, `SELECT m.id, m.name, m.location, m.state, ms.state, ms.score, ms.last_probe, ms.last_rtt
		FROM monitor_servers ms JOIN monitors m ON m.id = ms.monitor_id
		WHERE ms.server_id = ? AND m.state <> 'deleted'
		ORDER BY CASE ms.state WHEN 'active' THEN 0 WHEN 'testing' THEN 1 WHEN 'candidate' THEN 2 ELSE 3 END, m.name`, serverID)
	if err != nil {
		return nil, fmt.Errorf("store: monitors of server %d: %w", serverID, err)
	}
	defer rows.Close()
	var out []ServerMonitor
	for rows.Next() {
		var m ServerMonitor
		var lp sql.NullInt64
		if err := rows.Scan(&m.MonitorID, &m.Name, &m.Location, &m.MonitorState, &m.State, &m.Score, &lp, &m.LastRTT); err != nil {
			return nil, fmt.Errorf("store: monitors of server %d: %w", serverID, err)
		}
		m.LastProbe = fromMS(lp)
		out = append(out, m)
	}
	return out, rows.Err()
}

// LatestServerByIP returns the live server with address ip or, when none is
// live, the most recently deleted one, so old score pages keep working.
func (q q) LatestServerByIP(ctx context.Context, ip string) (Server, error) {
	s, err := scanServer(q.x.QueryRowContext(ctx, `SELECT `+serverCols+` FROM servers WHERE ip = ?
		ORDER BY deleted_at IS NOT NULL, deleted_at DESC LIMIT 1`, ip))
	if err != nil {
		return Server{}, notFound("server "+ip, err)
	}
	return s, nil
}

// GraphPoint is one history row reduced to what a graph draws.
type GraphPoint struct {
	TS        time.Time
	MonitorID int64 // 0: overall score
	Score     float64
	Offset    sql.NullFloat64 // seconds
}

// ScoreGraph returns a server's history rows from after on, oldest first,
// at most limit (the newest kept): fewer columns and no join, so a month
// of dense history still draws quickly.
func (q q) ScoreGraph(ctx context.Context, serverID int64, after time.Time, limit int) ([]GraphPoint, error) {
	rows, err := q.x.QueryContext(ctx, `SELECT ts, monitor_id, score, clock_offset FROM log_scores
		WHERE server_id = ? AND ts >= ? ORDER BY ts DESC LIMIT ?`, serverID, after.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: score graph of server %d: %w", serverID, err)
	}
	defer rows.Close()
	var out []GraphPoint
	for rows.Next() {
		var p GraphPoint
		var ts int64
		var mon sql.NullInt64
		if err := rows.Scan(&ts, &mon, &p.Score, &p.Offset); err != nil {
			return nil, fmt.Errorf("store: score graph of server %d: %w", serverID, err)
		}
		p.TS, p.MonitorID = time.UnixMilli(ts).UTC(), mon.Int64
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: score graph of server %d: %w", serverID, err)
	}
	slices.Reverse(out)
	return out, nil
}
