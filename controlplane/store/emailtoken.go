package store

import (
	"context"
	"fmt"
	"time"
)

// One-time tokens mailed to users: address confirmation and password reset.
// Stored hashed; using one deletes it.

// Token purposes.
const (
	TokenConfirm = "confirm"
	TokenReset   = "reset"
)

// CreateEmailToken stores a token for userID and purpose, valid until expires.
func (q q) CreateEmailToken(ctx context.Context, tokenHash string, userID int64, purpose string, now, expires time.Time) error {
	_, err := q.x.ExecContext(ctx, `INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, tokenHash, userID, purpose, now.UnixMilli(), expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: create %s token for user %d: %w", purpose, userID, err)
	}
	return nil
}

// UseEmailToken deletes an unexpired token of that purpose and returns its
// user; ErrNotFound when there is none, so a token works once.
func (q q) UseEmailToken(ctx context.Context, tokenHash, purpose string, now time.Time) (int64, error) {
	var uid int64
	err := q.x.QueryRowContext(ctx, `DELETE FROM email_tokens
		WHERE token_hash = ? AND purpose = ? AND expires_at > ? RETURNING user_id`,
		tokenHash, purpose, now.UnixMilli()).Scan(&uid)
	if err != nil {
		return 0, notFound(purpose+" token", err)
	}
	return uid, nil
}

// EmailTokenUser returns the user of an unexpired token of that purpose
// without using it: a cheap check before any costly work on a request that
// carries a token.
func (q q) EmailTokenUser(ctx context.Context, tokenHash, purpose string, now time.Time) (int64, error) {
	var uid int64
	err := q.x.QueryRowContext(ctx, `SELECT user_id FROM email_tokens
		WHERE token_hash = ? AND purpose = ? AND expires_at > ?`,
		tokenHash, purpose, now.UnixMilli()).Scan(&uid)
	if err != nil {
		return 0, notFound(purpose+" token", err)
	}
	return uid, nil
}
