package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Invitations to join an account, mailed as a link holding a token; only
// the token's hash is stored.

// Invitation is a pending invitation.
type Invitation struct {
	AccountID int64
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateInvitation stores an invitation of email into accountID.
func (q q) CreateInvitation(ctx context.Context, tokenHash string, accountID, invitedBy int64, email string, now, expires time.Time) error {
	_, err := q.x.ExecContext(ctx, `INSERT INTO invitations (token_hash, account_id, email, invited_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, tokenHash, accountID, normEmail(email), nullID(invitedBy), now.UnixMilli(), expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: invite %s: %w", email, err)
	}
	return nil
}

// InvitationsByAccount lists an account's unexpired invitations.
func (q q) InvitationsByAccount(ctx context.Context, accountID int64, now time.Time) ([]Invitation, error) {
	rows, err := q.x.QueryContext(ctx, `SELECT account_id, email, created_at, expires_at FROM invitations
		WHERE account_id = ? AND expires_at > ? ORDER BY created_at`, accountID, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: invitations of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		var in Invitation
		var c, e sql.NullInt64
		if err := rows.Scan(&in.AccountID, &in.Email, &c, &e); err != nil {
			return nil, fmt.Errorf("store: invitations of account %d: %w", accountID, err)
		}
		in.CreatedAt, in.ExpiresAt = fromMS(c), fromMS(e)
		out = append(out, in)
	}
	return out, rows.Err()
}

// Invitation returns the unexpired invitation with that token.
func (q q) Invitation(ctx context.Context, tokenHash string, now time.Time) (Invitation, error) {
	var in Invitation
	var c, e sql.NullInt64
	err := q.x.QueryRowContext(ctx, `SELECT account_id, email, created_at, expires_at FROM invitations
		WHERE token_hash = ? AND expires_at > ?`, tokenHash, now.UnixMilli()).Scan(&in.AccountID, &in.Email, &c, &e)
	if err != nil {
		return Invitation{}, notFound("invitation", err)
	}
	in.CreatedAt, in.ExpiresAt = fromMS(c), fromMS(e)
	return in, nil
}

// DeleteInvitation removes an invitation by token.
func (q q) DeleteInvitation(ctx context.Context, tokenHash string) error {
	if _, err := q.x.ExecContext(ctx, `DELETE FROM invitations WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("store: delete invitation: %w", err)
	}
	return nil
}

// CancelInvitation removes an account's invitations of email.
func (q q) CancelInvitation(ctx context.Context, accountID int64, email string) error {
	return q.execOne(ctx, "cancel invitation of "+email,
		`DELETE FROM invitations WHERE account_id = ? AND email = ?`, accountID, normEmail(email))
}
