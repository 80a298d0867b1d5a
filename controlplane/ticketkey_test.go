package main

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// Two instances starting together on a fresh database must end up with
// the same ticket key, or tickets one hands out are refused by the other.
func TestStoredTicketKeySharedWhenStartingTogether(t *testing.T) {
	ctx := context.Background()
	for round := range 10 {
		path := filepath.Join(t.TempDir(), "key.db")
		const n = 4
		stores := make([]*store.Store, n)
		for i := range stores {
			st, err := store.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			stores[i] = st
		}
		keys := make([][]byte, n)
		errs := make([]error, n)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i := range stores {
			wg.Go(func() {
				start.Wait()
				keys[i], errs[i] = storedTicketKey(ctx, stores[i])
			})
		}
		start.Done()
		wg.Wait()
		for i := range keys {
			if errs[i] != nil {
				t.Fatalf("round %d: instance %d: %v", round, i, errs[i])
			}
			if len(keys[i]) != 32 || !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("round %d: instance %d has key %x, instance 0 has %x", round, i, keys[i], keys[0])
			}
		}
		stored, err := storedTicketKey(ctx, stores[0])
		if err != nil || !bytes.Equal(stored, keys[0]) {
			t.Fatalf("round %d: stored key %x (%v), instances use %x", round, stored, err, keys[0])
		}
	}
}
