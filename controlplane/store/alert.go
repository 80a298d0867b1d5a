package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Alert state per server, kept by the alert job (controlplane/alert): when
// the current episode's first and newest emails went out and the score the
// newest one reported.

// AlertState is the stored alert episode of one server.
type AlertState struct {
	ServerID  int64
	First     time.Time
	Last      time.Time
	LastScore float64
}

// AlertCandidate is a live server with an owner, its account's users'
// addresses aside, and its stored alert state (zero when none).
type AlertCandidate struct {
	Server Server
	Alert  AlertState
}

// AlertCandidates lists every live, owned server that is failing (score at
// or below maxScore) or has an alert state, so the job can send and clear.
func (q q) AlertCandidates(ctx context.Context, maxScore float64) ([]AlertCandidate, error) {
	rows, err := q.x.QueryContext(ctx, `SELECT `+prefixCols("s.", serverCols)+`, a.first_at, a.last_at, a.last_score
		FROM servers s LEFT JOIN alert_state a ON a.server_id = s.id
		WHERE s.deleted_at IS NULL AND s.account_id IS NOT NULL AND (s.score <= ? OR a.server_id IS NOT NULL)
		ORDER BY s.account_id, s.id`, maxScore)
	if err != nil {
		return nil, fmt.Errorf("store: alert candidates: %w", err)
	}
	defer rows.Close()
	var out []AlertCandidate
	for rows.Next() {
		var c AlertCandidate
		var first, last sql.NullInt64
		var lastScore sql.NullFloat64
		var err error
		if c.Server, err = scanServer(withExtra{rows, []any{&first, &last, &lastScore}}); err != nil {
			return nil, fmt.Errorf("store: alert candidates: %w", err)
		}
		s := c.Server
		c.Alert = AlertState{ServerID: s.ID, First: fromMS(first), Last: fromMS(last), LastScore: lastScore.Float64}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SaveAlertState stores a server's alert state; a zero Last clears it.
func (q q) SaveAlertState(ctx context.Context, a AlertState) error {
	var err error
	if a.Last.IsZero() {
		_, err = q.x.ExecContext(ctx, `DELETE FROM alert_state WHERE server_id = ?`, a.ServerID)
	} else {
		_, err = q.x.ExecContext(ctx, `INSERT INTO alert_state (server_id, first_at, last_at, last_score) VALUES (?, ?, ?, ?)
			ON CONFLICT (server_id) DO UPDATE SET first_at = excluded.first_at, last_at = excluded.last_at, last_score = excluded.last_score`,
			a.ServerID, a.First.UnixMilli(), a.Last.UnixMilli(), a.LastScore)
	}
	if err != nil {
		return fmt.Errorf("store: save alert state of server %d: %w", a.ServerID, err)
	}
	return nil
}

// withExtra scans a row that has extra columns after the ones a scan
// function knows about, so entity scanners are reused for joins.
type withExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dst ...any) error { return w.row.Scan(append(dst, w.extra...)...) }
