package store

import (
	"context"
	"fmt"
)

// Server listings that only the web UI needs.

// AdminServers lists live servers for the admin page, newest first. A
// non-empty ipPrefix keeps servers whose address starts with it.
func (q q) AdminServers(ctx context.Context, ipPrefix string, limit int) ([]Server, error) {
	return q.servers(ctx, "admin server list",
		`WHERE deleted_at IS NULL AND (? = '' OR ip LIKE ? || '%') ORDER BY id DESC LIMIT ?`, ipPrefix, ipPrefix, limit)
}

// CountServersByAccount counts an account's live servers.
func (q q) CountServersByAccount(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := q.x.QueryRowContext(ctx, `SELECT COUNT(*) FROM servers WHERE account_id = ? AND deleted_at IS NULL`, accountID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count servers of account %d: %w", accountID, err)
	}
	return n, nil
}
