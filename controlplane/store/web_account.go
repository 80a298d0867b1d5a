package store

import (
	"context"
	"fmt"
	"time"
)

// Account-level operations of the manage site.

// RemoveAccountUser deletes a user of accountID; its sessions and tokens go
// with it. It refuses (ErrNotFound) a user of another account.
func (q q) RemoveAccountUser(ctx context.Context, accountID, userID int64) error {
	return q.execOne(ctx, fmt.Sprintf("remove user %d from account %d", userID, accountID),
		`DELETE FROM users WHERE id = ? AND account_id = ?`, userID, accountID)
}

// DeleteAccount removes an account and its users. Its live servers are
// deleted at now and, like its monitors and vendor zones, lose their owner,
// so score history stays without personal data.
func (q q) DeleteAccount(ctx context.Context, accountID int64, now time.Time) error {
	stmts := []struct {
		op, sql string
		args    []any
	}{
		{"delete servers", `UPDATE servers SET deleted_at = ? WHERE account_id = ? AND deleted_at IS NULL`, []any{now.UnixMilli(), accountID}},
		{"orphan servers", `UPDATE servers SET account_id = NULL WHERE account_id = ?`, []any{accountID}},
		{"orphan monitors", `UPDATE monitors SET account_id = NULL WHERE account_id = ?`, []any{accountID}},
		{"orphan vendor zones", `UPDATE vendor_zones SET account_id = NULL WHERE account_id = ?`, []any{accountID}},
		{"delete users", `DELETE FROM users WHERE account_id = ?`, []any{accountID}},
	}
	for _, s := range stmts {
		if _, err := q.x.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("store: delete account %d: %s: %w", accountID, s.op, err)
		}
	}
	return q.execOne(ctx, fmt.Sprintf("delete account %d", accountID), `DELETE FROM accounts WHERE id = ?`, accountID)
}

// Users lists every user (admin page), newest first, at most limit.
func (q q) Users(ctx context.Context, limit int) ([]User, error) {
	rows, err := q.x.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
