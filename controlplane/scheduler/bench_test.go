package scheduler

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// BenchmarkSelectPass is one selection pass over 10,000 and 100,000
// servers with 50 monitors (500,000 and 5,000,000 pairs: 7 active, 5
// testing, the rest candidates on each server, the active and testing
// pairs with a day of hourly health buckets), reading everything from
// SQLite and applying the changes.
func BenchmarkSelectPass(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint("servers=", n), func(b *testing.B) { benchSelectPass(b, n) })
	}
}

func benchSelectPass(b *testing.B, nServers int) {
	const nMonitors = 50
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for i := range nMonitors {
		_, err := st.CreateMonitor(ctx, store.Monitor{Name: fmt.Sprint("m", i), TokenHash: fmt.Sprint("h", i),
			State: store.MonitorActive, IP4: netip.AddrFrom4([4]byte{10, byte(i), 0, 1})})
		if err != nil {
			b.Fatal(err)
		}
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i := range nServers {
			ip := netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
			if _, err := tx.CreateServer(ctx, store.Server{IP: ip, Netspeed: 1000, InPool: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// Pairs and health in bulk: one statement each, not millions.
	db := st.DB()
	if _, err := db.ExecContext(ctx, `INSERT INTO monitor_servers (monitor_id, server_id, state, created_at)
		SELECT m.id, s.id, CASE WHEN (m.id + s.id) % 50 < 7 THEN 'active' WHEN (m.id + s.id) % 50 < 12 THEN 'testing'
			ELSE 'candidate' END, ? FROM monitors m CROSS JOIN servers s`, now.UnixMilli()); err != nil {
		b.Fatal(err)
	}
	hour := now.UnixMilli() / 3_600_000 * 3_600_000
	if _, err := db.ExecContext(ctx, `WITH RECURSIVE hours(h) AS (SELECT 0 UNION ALL SELECT h + 1 FROM hours WHERE h < 23)
		INSERT INTO pair_health_hours (monitor_id, server_id, hour, points, step_sum, rtt_sum, rtt_n)
		SELECT ms.monitor_id, ms.server_id, ? - hours.h * 3600000, 4, 4, 0.004 * ms.monitor_id, 4
		FROM monitor_servers ms CROSS JOIN hours WHERE ms.state IN ('active', 'testing')`, hour); err != nil {
		b.Fatal(err)
	}
	s := New(st, Config{Assign: assign.DefaultConfig()})
	b.ReportAllocs()
	cpu0, passes := cpuTime(), 0
	for b.Loop() {
		if _, err := s.Select(ctx, now, true); err != nil {
			b.Fatal(err)
		}
		passes++
	}
	// CPU time per pass: on a machine shared with other work, wall time
	// says more about the neighbours than about the pass.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(passes), "cpu-s/pass")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
