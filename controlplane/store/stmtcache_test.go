package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestStatementCacheIsBounded: past the cap, queries still work (in and
// out of a transaction) and no statement is prepared outside the cache,
// where nothing would ever close it.
func TestStatementCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range maxCached + 100 {
		var n int
		if err := st.q.x.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil || n != i {
			t.Fatalf("query %d: %d, %v", i, n, err)
		}
	}
	if n := len(st.cache.m); n != maxCached {
		t.Errorf("cache holds %d statements, want %d", n, maxCached)
	}
	extra, err := st.cache.get(ctx, "SELECT 'one more'")
	if err != nil || extra != nil {
		t.Fatalf("a statement was prepared past the cap: %v, %v", extra, err)
	}
	err = st.InTx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.q.x.QueryRowContext(ctx, "SELECT 7000").Scan(&n); err != nil || n != 7000 {
			return fmt.Errorf("in a transaction: %d, %v", n, err)
		}
		rows, err := tx.q.x.QueryContext(ctx, "SELECT 7001")
		if err != nil {
			return err
		}
		defer rows.Close()
		_, err = tx.q.x.ExecContext(ctx, "CREATE TEMP TABLE past_cap (x INTEGER)")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
