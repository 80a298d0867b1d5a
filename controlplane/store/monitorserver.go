package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"
)

// Per-server monitor states (POOL.md); the names match score.State.String.
const (
	PairCandidate = "candidate"
	PairTesting   = "testing"
	PairActive    = "active"
	PairPaused    = "paused"
)

// MonitorServer is one monitor's view of one server.
type MonitorServer struct {
	MonitorID     int64
	ServerID      int64
	State         string
	Score         float64
	LastProbe     time.Time // time of the newest result; zero: none yet
	LastHandedOut time.Time
	LastRTT       float64 // seconds, of the newest result; 0 when none
	LastStep      float64 // of the newest result
	CreatedAt     time.Time
}

const pairCols = `monitor_id, server_id, state, score, last_probe, last_handed_out, last_rtt, created_at, COALESCE(last_step, 0)`

// pairColsMS is pairCols of monitor_servers aliased ms.
const pairColsMS = `ms.monitor_id, ms.server_id, ms.state, ms.score, ms.last_probe, ms.last_handed_out, ms.last_rtt,
	ms.created_at, COALESCE(ms.last_step, 0)`

func scanPair(row rowScanner) (MonitorServer, error) {
	var p MonitorServer
	var probe, handed, created sql.NullInt64
	var rtt sql.NullFloat64
	if err := row.Scan(&p.MonitorID, &p.ServerID, &p.State, &p.Score, &probe, &handed, &rtt, &created, &p.LastStep); err != nil {
		return MonitorServer{}, err
	}
	p.LastProbe, p.LastHandedOut, p.CreatedAt = fromMS(probe), fromMS(handed), fromMS(created)
	p.LastRTT = rtt.Float64
	return p, nil
}

func (q q) pairs(ctx context.Context, op, where string, args ...any) ([]MonitorServer, error) {
	return queryAll(ctx, q, op, scanPair, `SELECT `+pairCols+` FROM monitor_servers `+where, args...)
}

// AddMonitorServer creates the pair in state (normally candidate); an
// existing pair is left as it is. It reports whether a row was added.
func (q q) AddMonitorServer(ctx context.Context, monitorID, serverID int64, state string, now time.Time) (bool, error) {
	res, err := q.x.ExecContext(ctx, `INSERT INTO monitor_servers (monitor_id, server_id, state, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (monitor_id, server_id) DO NOTHING`, monitorID, serverID, state, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: add monitor %d to server %d: %w", monitorID, serverID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// MonitorServer returns the pair.
func (q q) MonitorServer(ctx context.Context, monitorID, serverID int64) (MonitorServer, error) {
	p, err := scanPair(q.x.QueryRowContext(ctx, `SELECT `+pairCols+` FROM monitor_servers
		WHERE monitor_id = ? AND server_id = ?`, monitorID, serverID))
	if err != nil {
		return MonitorServer{}, notFound(fmt.Sprintf("monitor %d server %d", monitorID, serverID), err)
	}
	return p, nil
}

// ServerPairs lists the pairs of one server, by monitor id.
func (q q) ServerPairs(ctx context.Context, serverID int64) ([]MonitorServer, error) {
	return q.pairs(ctx, fmt.Sprintf("monitors of server %d", serverID),
		`WHERE server_id = ? ORDER BY monitor_id`, serverID)
}

// SetMonitorServerState moves a pair to state.
func (q q) SetMonitorServerState(ctx context.Context, monitorID, serverID int64, state string) error {
	return q.execOne(ctx, fmt.Sprintf("set state of monitor %d server %d", monitorID, serverID),
		`UPDATE monitor_servers SET state = ? WHERE monitor_id = ? AND server_id = ?`, state, monitorID, serverID)
}

// DueCandidate is one pair as the work handout sees it: the pair, the
// server's address, overall-score time and deletion date.
type DueCandidate struct {
	MonitorServer
	IP              netip.Addr
	LastScoreUpdate time.Time
	DeletionOn      time.Time
}

// WorkFilter narrows a monitor's pairs to those that may be due, so a
// handout does not read every pair of a monitor watching 10,000 servers.
// It mirrors assign.Config's intervals; the caller still applies
// assign.Config.Due to what comes back, which stays the authority.
type WorkFilter struct {
	Now time.Time
	// Interval by pair: Slow for candidates, paused pairs and scores at or
	// below SlowScore; Testing for testing pairs; Active otherwise.
	Active, Testing, Slow time.Duration
	SlowScore             float64
	MinRescore            time.Duration
	Limit                 int
}

// pairDue is the SQL of "when the pair's interval is over", in ms. The
// intervals are cast: PostgreSQL takes a CASE of bare placeholders for text.
const pairDue = `COALESCE(ms.last_handed_out, 0) + CASE
		WHEN ms.score <= ? OR ms.state IN ('candidate', 'paused') THEN CAST(? AS BIGINT)
		WHEN ms.state = 'testing' THEN CAST(? AS BIGINT)
		ELSE CAST(? AS BIGINT) END`

func (f WorkFilter) dueArgs() []any {
	return []any{f.SlowScore, f.Slow.Milliseconds(), f.Testing.Milliseconds(), f.Active.Milliseconds()}
}

// MonitorWork lists the monitor's pairs on live servers whose interval is
// over and whose server was not rescored within MinRescore, least recently
// handed out first, at most f.Limit.
func (q q) MonitorWork(ctx context.Context, monitorID int64, f WorkFilter) ([]DueCandidate, error) {
	now := f.Now.UnixMilli()
	args := append([]any{monitorID, now}, f.dueArgs()...)
	args = append(args, now, f.MinRescore.Milliseconds(), now, f.Limit)
	return queryAll(ctx, q, fmt.Sprintf("work of monitor %d", monitorID), scanDue,
		`SELECT ms.monitor_id, ms.server_id, ms.state, ms.score, ms.last_probe,
		ms.last_handed_out, ms.last_rtt, ms.created_at, s.ip, s.last_score_update, s.deletion_on
		FROM monitor_servers ms JOIN servers s ON s.id = ms.server_id
		WHERE ms.monitor_id = ? AND s.deleted_at IS NULL AND (s.deletion_on IS NULL OR s.deletion_on > ?)
		AND `+pairDue+` <= ?
		AND COALESCE(s.last_score_update, 0) + ? <= ?
		ORDER BY COALESCE(ms.last_handed_out, 0), ms.server_id LIMIT ?`, args...)
}

// NextWork is when the monitor's next pair comes due, by its interval and
// its server's rescore gap (zero: it has none), for the poll hint when
// nothing is due now.
func (q q) NextWork(ctx context.Context, monitorID int64, f WorkFilter) (time.Time, error) {
	args := append(f.dueArgs(), f.MinRescore.Milliseconds())
	args = append(args, f.dueArgs()...)
	args = append(args, f.MinRescore.Milliseconds(), monitorID, f.Now.UnixMilli())
	var next sql.NullInt64
	// CASE rather than max()/GREATEST: the two databases spell it apart.
	err := q.x.QueryRowContext(ctx, `SELECT MIN(CASE WHEN `+pairDue+` > COALESCE(s.last_score_update, 0) + ?
		THEN `+pairDue+` ELSE COALESCE(s.last_score_update, 0) + ? END)
		FROM monitor_servers ms JOIN servers s ON s.id = ms.server_id
		WHERE ms.monitor_id = ? AND s.deleted_at IS NULL AND (s.deletion_on IS NULL OR s.deletion_on > ?)`,
		args...).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: next work of monitor %d: %w", monitorID, err)
	}
	return fromMS(next), nil
}

func scanDue(r rowScanner) (DueCandidate, error) {
	var d DueCandidate
	var probe, handed, created, lsu, del sql.NullInt64
	var rtt sql.NullFloat64
	var ip string
	err := r.Scan(&d.MonitorID, &d.ServerID, &d.State, &d.Score, &probe, &handed, &rtt, &created, &ip, &lsu, &del)
	if err != nil {
		return d, err
	}
	if d.IP, err = netip.ParseAddr(ip); err != nil {
		return d, fmt.Errorf("bad stored ip %q: %w", ip, err)
	}
	d.LastProbe, d.LastHandedOut, d.CreatedAt = fromMS(probe), fromMS(handed), fromMS(created)
	d.LastRTT = rtt.Float64
	d.LastScoreUpdate, d.DeletionOn = fromMS(lsu), fromMS(del)
	return d, nil
}

// MarkHandedOut records that the servers were handed to the monitor at t.
func (q q) MarkHandedOut(ctx context.Context, monitorID int64, serverIDs []int64, t time.Time) error {
	for _, id := range serverIDs {
		if _, err := q.x.ExecContext(ctx, `UPDATE monitor_servers SET last_handed_out = ?
			WHERE monitor_id = ? AND server_id = ?`, t.UnixMilli(), monitorID, id); err != nil {
			return fmt.Errorf("store: hand out server %d to monitor %d: %w", id, monitorID, err)
		}
	}
	return nil
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
