package store

import (
	"context"
	"fmt"
)

// Server changes made by staff (support, admins): they act on any server,
// so these take no account.

// SetServerInPool takes a live server out of the pool (in false: it leaves
// the DNS and its owner sees it as removed by the pool) or puts it back.
func (q q) SetServerInPool(ctx context.Context, id int64, in bool) error {
	return q.execOne(ctx, fmt.Sprintf("set in_pool of server %d", id),
		`UPDATE servers SET in_pool = ? WHERE id = ? AND deleted_at IS NULL`, b2i(in), id)
}
