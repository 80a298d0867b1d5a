package store

import (
	"context"
	"fmt"
	"time"
)

// Web log-in sessions. The cookie holds a random token; only its hash
// (HashToken) is stored, so a copy of the database opens no sessions.

// CreateSession stores a session for userID that ends at expires.
func (q q) CreateSession(ctx context.Context, tokenHash string, userID int64, now, expires time.Time) error {
	_, err := q.x.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, userID, now.UnixMilli(), expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: create session for user %d: %w", userID, err)
	}
	return nil
}

// SessionUser returns the user of an unexpired session.
func (q q) SessionUser(ctx context.Context, tokenHash string, now time.Time) (User, error) {
	u, err := scanUser(q.x.QueryRowContext(ctx, `SELECT `+prefixCols("u.", userCols)+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash, now.UnixMilli()))
	if err != nil {
		return User{}, notFound("session", err)
	}
	return u, nil
}

// DeleteSession ends one session (log-out); a missing one is not an error.
func (q q) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := q.x.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (after a password reset).
func (q q) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := q.x.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("store: delete sessions of user %d: %w", userID, err)
	}
	return nil
}

// DeleteExpiredWebRows removes ended sessions, email tokens, invitations
// and lapsed server claims (the leader's retention job).
func (q q) DeleteExpiredWebRows(ctx context.Context, now time.Time) error {
	if _, err := q.DeleteLapsedClaims(ctx, now); err != nil {
		return err
	}
	for _, table := range []string{"sessions", "email_tokens", "invitations"} {
		// table is one of the constants above, never input.
		if _, err := q.x.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
			return fmt.Errorf("store: expire %s: %w", table, err)
		}
	}
	return nil
}

// prefixCols qualifies each column of a comma-separated list with p.
func prefixCols(p, cols string) string {
	out := make([]byte, 0, len(cols)*2)
	start := true
	for i := 0; i < len(cols); i++ {
		c := cols[i]
		if start && c != ' ' && c != '\t' && c != '\n' {
			out = append(out, p...)
			start = false
		}
		out = append(out, c)
		if c == ',' {
			start = true
		}
	}
	return string(out)
}
