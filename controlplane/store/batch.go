package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// BatchAccepted returns how many results a monitor's batch had when it was
// committed, and whether it was committed at all.
func (q q) BatchAccepted(ctx context.Context, monitorID int64, batchID string) (int, bool, error) {
	var n int
	err := q.x.QueryRowContext(ctx, `SELECT accepted FROM batches WHERE monitor_id = ? AND batch_id = ?`,
		monitorID, batchID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: batch %s of monitor %d: %w", batchID, monitorID, err)
	}
	return n, true, nil
}

// RecordBatch remembers a committed batch and makes it the monitor's newest
// (last_batch_id only grows).
func (q q) RecordBatch(ctx context.Context, monitorID int64, batchID string, accepted int, t time.Time) error {
	if _, err := q.x.ExecContext(ctx, `INSERT INTO batches (monitor_id, batch_id, accepted, created_at)
		VALUES (?, ?, ?, ?)`, monitorID, batchID, accepted, t.UnixMilli()); err != nil {
		return fmt.Errorf("store: record batch %s of monitor %d: %w", batchID, monitorID, err)
	}
	if _, err := q.x.ExecContext(ctx, `UPDATE monitors SET last_batch_id = ?, last_seen = ?
		WHERE id = ? AND last_batch_id < ?`, batchID, t.UnixMilli(), monitorID, batchID); err != nil {
		return fmt.Errorf("store: record batch %s of monitor %d: %w", batchID, monitorID, err)
	}
	return nil
}

// DeleteBatchesBefore forgets batch ids older than t. A monitor's newest
// batch id stays on the monitor, so an old batch is still refused.
func (q q) DeleteBatchesBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := q.x.ExecContext(ctx, `DELETE FROM batches WHERE created_at < ?`, t.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: delete old batches: %w", err)
	}
	return res.RowsAffected()
}
