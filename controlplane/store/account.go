package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Account owns servers, monitors and vendor zones; users belong to one.
type Account struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// CreateAccount adds an account and returns its id.
func (q q) CreateAccount(ctx context.Context, name string) (int64, error) {
	var id int64
	err := q.x.QueryRowContext(ctx,
		`INSERT INTO accounts (name, created_at) VALUES (?, ?) RETURNING id`,
		name, time.Now().UnixMilli()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: create account: %w", err)
	}
	return id, nil
}

// Account returns the account with id.
func (q q) Account(ctx context.Context, id int64) (Account, error) {
	var a Account
	var created sql.NullInt64
	err := q.x.QueryRowContext(ctx, `SELECT id, name, created_at FROM accounts WHERE id = ?`, id).
		Scan(&a.ID, &a.Name, &created)
	if err != nil {
		return Account{}, notFound(fmt.Sprintf("account %d", id), err)
	}
	a.CreatedAt = fromMS(created)
	return a, nil
}

// execOne runs a statement that must change exactly one row.
func (q q) execOne(ctx context.Context, op, query string, args ...any) error {
	res, err := q.x.ExecContext(ctx, query, args...)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("store: %s: %w", op, ErrConflict)
		}
		return fmt.Errorf("store: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", op, ErrNotFound)
	}
	return nil
}

// Account-level operations of the manage site.

// RemoveAccountUser deletes a user of accountID; its sessions and tokens go
// with it. It refuses (ErrNotFound) a user of another account.
func (q q) RemoveAccountUser(ctx context.Context, accountID, userID int64) error {
	// The invitations the user sent go with them.
	if _, err := q.x.ExecContext(ctx, `DELETE FROM invitations WHERE invited_by = ? AND account_id = ?`, userID, accountID); err != nil {
		return fmt.Errorf("store: invitations of user %d: %w", userID, err)
	}
	return q.execOne(ctx, fmt.Sprintf("remove user %d from account %d", userID, accountID),
		`DELETE FROM users WHERE id = ? AND account_id = ?`, userID, accountID)
}

// DeleteAccount removes an account and its users. Its live servers are
// deleted at now, its pending claims dropped, and, like its monitors and vendor zones, lose their owner,
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
		{"delete claims", `DELETE FROM server_claims WHERE account_id = ?`, []any{accountID}},
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
