package assign

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
)

// fleet is a generated pool: every server with its view of every monitor and
// each monitor's newest score for it.
type fleet struct {
	servers  []Server
	monitors [][]MonitorStatus
	scores   [][]score.MonitorScore
	netSpeed []int64
}

// newFleet builds n servers watched by m monitors from 30 accounts, with a
// realistic mix of states (about 7 active, 5 testing, the rest candidates,
// some globally testing or paused monitors) and health, seeded so every run
// measures the same work.
func newFleet(n, m int, now time.Time) fleet {
	r := rand.New(rand.NewPCG(1, 2))
	f := fleet{
		servers:  make([]Server, n),
		monitors: make([][]MonitorStatus, n),
		scores:   make([][]score.MonitorScore, n),
		netSpeed: make([]int64, n),
	}
	base := make([]MonitorStatus, m)
	for j := range base {
		g := GlobalActive
		switch j % 17 {
		case 5:
			g = GlobalTesting
		case 11:
			g = GlobalPaused
		}
		base[j] = MonitorStatus{
			ID:        int64(j + 1),
			AccountID: int64(100 + r.IntN(30)),
			IP:        netip.AddrFrom4([4]byte{byte(20 + j), byte(r.IntN(256)), byte(r.IntN(256)), 1}),
			Global:    g,
		}
	}
	for i := range n {
		f.servers[i] = Server{
			IP:        netip.AddrFrom4([4]byte{byte(100 + i%100), byte(i >> 8), byte(i), 10}),
			AccountID: int64(1 + r.IntN(2000)),
		}
		f.netSpeed[i] = 1000 * int64(1+r.IntN(100))
		ms := make([]MonitorStatus, m)
		sc := make([]score.MonitorScore, m)
		perm := r.Perm(m)
		for k, j := range perm {
			st := score.Candidate
			switch {
			case k < 6+r.IntN(3):
				st = score.Active
			case k < 12:
				st = score.Testing
			}
			mon := base[j]
			mon.State = st
			mon.Health = Health{
				Points:  r.IntN(200),
				AvgStep: 1 - 2*r.Float64()*r.Float64(),
				AvgRTT:  time.Duration(5+r.IntN(300)) * time.Millisecond,
			}
			ms[j] = mon
			sc[j] = score.MonitorScore{
				MonitorID: mon.ID,
				State:     st,
				Score:     20 - 30*r.Float64()*r.Float64(),
				RTT:       mon.Health.AvgRTT,
				Time:      now.Add(-time.Duration(r.IntN(7200)) * time.Second),
			}
		}
		f.monitors[i] = ms
		f.scores[i] = sc
	}
	return f
}

// BenchmarkPass is one full control-plane pass over the pool: for every
// server the overall score, DNS eligibility and weight, the monitor
// selection, and the due check of every (monitor, server) pair. Target
// (issue 3): 10,000 servers and 50 monitors in well under 2 s.
func BenchmarkPass(b *testing.B) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f := newFleet(10000, 50, now)
	sc, ac := score.DefaultConfig(), DefaultConfig()
	b.ReportAllocs()
	var changes, inDNS, due int
	for b.Loop() {
		changes, inDNS, due = 0, 0, 0
		for i, srv := range f.servers {
			if o, ok := sc.RecentMedian(now, f.scores[i]); ok {
				s := score.Server{Score: o.Score, NetSpeed: f.netSpeed[i]}
				if sc.Weight(now, s) > 0 {
					inDNS++
				}
			}
			changes += len(Plan(srv, f.monitors[i], ac))
			for j, m := range f.monitors[i] {
				p := Pair{State: m.State, Global: m.Global, Score: f.scores[i][j].Score, Handed: f.scores[i][j].Time}
				if ac.Due(now, p) {
					due++
				}
			}
		}
	}
	b.ReportMetric(float64(changes), "changes/pass")
	b.ReportMetric(float64(inDNS), "indns/pass")
	b.ReportMetric(float64(due), "due/pass")
}

// BenchmarkPlan is the selection alone, per server.
func BenchmarkPlan(b *testing.B) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, m := range []int{12, 50} {
		f := newFleet(1000, m, now)
		cfg := DefaultConfig()
		b.Run("monitors="+strconv.Itoa(m), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				Plan(f.servers[i], f.monitors[i], cfg)
				i = (i + 1) % len(f.servers)
			}
		})
	}
}
