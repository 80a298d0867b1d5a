package api

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// BenchmarkWorkHandout: one monitor watching 10,000 servers (1,400 active,
// 1,000 testing, the rest candidates), all handed out recently, asks for
// work: the production rules make almost nothing due.
func BenchmarkWorkHandout(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	mid, _ := st.CreateMonitor(ctx, store.Monitor{Name: "m", TokenHash: "h", State: store.MonitorActive})
	now := time.Now()
	var ids []int64
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i := range 10000 {
			ip := netip.AddrFrom4([4]byte{100, 64, byte(i >> 8), byte(i)})
			id, err := tx.CreateServer(ctx, store.Server{IP: ip, Netspeed: 1000, InPool: true})
			if err != nil {
				return err
			}
			state := store.PairCandidate
			switch {
			case i < 1400:
				state = store.PairActive
			case i < 2400:
				state = store.PairTesting
			}
			tx.AddMonitorServer(ctx, mid, id, state, now)
			ids = append(ids, id)
		}
		return tx.MarkHandedOut(ctx, mid, ids, now.Add(-5*time.Minute))
	})
	if err != nil {
		b.Fatal(err)
	}
	s := New(st, Config{Score: score.DefaultConfig(), Assign: assign.DefaultConfig(), TicketKey: []byte("k")})
	m, _ := st.Monitor(ctx, mid)
	for b.Loop() {
		w, err := s.Work(ctx, m)
		if err != nil || len(w.Servers) != 0 {
			b.Fatal(fmt.Sprint(err, len(w.Servers)))
		}
	}
}
