package scheduler

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// BenchmarkSelectPass is one selection pass over 10,000 servers and 50
// monitors (500,000 pairs, all active or testing already), reading
// everything from SQLite and applying the changes.
func BenchmarkSelectPass(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const nServers, nMonitors = 10000, 50
	now := time.Now()
	var mons []int64
	for i := range nMonitors {
		id, _ := st.CreateMonitor(ctx, store.Monitor{Name: fmt.Sprint("m", i), TokenHash: fmt.Sprint("h", i),
			State: store.MonitorActive, IP4: netip.AddrFrom4([4]byte{10, byte(i), 0, 1})})
		mons = append(mons, id)
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i := range nServers {
			ip := netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
			sid, err := tx.CreateServer(ctx, store.Server{IP: ip, Netspeed: 1000, InPool: true})
			if err != nil {
				return err
			}
			for j, m := range mons {
				state := store.PairCandidate
				switch {
				case j < 7:
					state = store.PairActive
				case j < 12:
					state = store.PairTesting
				}
				if _, err := tx.AddMonitorServer(ctx, m, sid, state, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s := New(st, Config{Assign: assign.DefaultConfig()})
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Select(ctx, now, true); err != nil {
			b.Fatal(err)
		}
	}
}
