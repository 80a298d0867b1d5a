package assign

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
)

// randomMonitors crowds n monitors into few networks and accounts so that
// every constraint is hit often.
func randomMonitors(r *rand.Rand, n int) (Server, []MonitorStatus) {
	srv := Server{IP: netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(4) * 16), 10}), AccountID: int64(r.IntN(4))}
	ms := make([]MonitorStatus, n)
	for i := range ms {
		ms[i] = MonitorStatus{
			ID:        int64(i + 1),
			AccountID: int64(r.IntN(6)),
			IP:        netip.AddrFrom4([4]byte{10, byte(r.IntN(3)), byte(r.IntN(256)), 1}),
			Global:    GlobalState(r.IntN(5)),
			State:     score.State(r.IntN(6)), // includes an unknown state
			Health: Health{
				Points:  r.IntN(60),
				AvgStep: 1 - 3*r.Float64(),
				AvgRTT:  time.Duration(r.IntN(400)) * time.Millisecond,
			},
		}
		if r.IntN(4) > 0 {
			ms[i].Global = GlobalActive
		}
	}
	return srv, ms
}

// violations lists what breaks the selection rules in ms, computed here
// independently of the planner: it is the test's oracle.
func violations(srv Server, ms []MonitorStatus, cfg Config) []string {
	var out []string
	type acct struct{ active, testing int }
	accounts := map[int64]*acct{}
	nets := map[netip.Prefix]int64{}
	serverNet, _ := srv.IP.Prefix(cfg.ServerNetV4)
	active, testing := 0, 0
	for _, m := range ms {
		if m.State != score.Active && m.State != score.Testing {
			continue
		}
		if m.State == score.Active {
			active++
			if m.Global != GlobalActive {
				out = append(out, fmt.Sprintf("monitor %d active but globally %v", m.ID, m.Global))
			}
		} else {
			testing++
			if !m.Global.Works() {
				out = append(out, fmt.Sprintf("monitor %d testing but globally %v", m.ID, m.Global))
			}
		}
		if serverNet.Contains(m.IP) {
			out = append(out, fmt.Sprintf("monitor %d in the server's network", m.ID))
		}
		if m.AccountID != 0 && m.AccountID == srv.AccountID {
			out = append(out, fmt.Sprintf("monitor %d of the server's account", m.ID))
		}
		spread, _ := m.IP.Prefix(cfg.SpreadV4)
		if other, dup := nets[spread]; dup {
			out = append(out, fmt.Sprintf("monitors %d and %d in %v", other, m.ID, spread))
		}
		nets[spread] = m.ID
		if m.AccountID != 0 {
			a := accounts[m.AccountID]
			if a == nil {
				a = &acct{}
				accounts[m.AccountID] = a
			}
			if m.State == score.Active {
				a.active++
			} else {
				a.testing++
			}
		}
	}
	for id, a := range accounts {
		if a.active > cfg.AccountMaxActive || a.testing > cfg.AccountMaxTesting || a.active+a.testing > cfg.AccountMaxTotal {
			out = append(out, fmt.Sprintf("account %d has %d active and %d testing", id, a.active, a.testing))
		}
	}
	if active > cfg.TargetActive {
		out = append(out, fmt.Sprintf("%d active", active))
	}
	if t := cfg.TargetTesting + max(0, cfg.TargetActive-active); testing > t {
		out = append(out, fmt.Sprintf("%d testing, target %d", testing, t))
	}
	return out
}

// checkRun checks one run's changes against the rules a single run obeys.
func checkRun(t *testing.T, ms []MonitorStatus, changes []Change, cfg Config) {
	t.Helper()
	byID := map[int64]MonitorStatus{}
	actives := 0
	for _, m := range ms {
		byID[m.ID] = m
		if m.State == score.Active {
			actives++
		}
	}
	seen := map[int64]bool{}
	var cat [categories]int
	activesAfter := actives
	testing, bootstraps := 0, 0
	for _, m := range ms {
		if m.State == score.Testing {
			testing++
		}
	}
	for _, c := range changes {
		m, known := byID[c.MonitorID]
		switch {
		case !known:
			t.Fatalf("change for unknown monitor: %v", c)
		case seen[c.MonitorID]:
			t.Fatalf("monitor changed twice in one run: %v", changes)
		case m.State != c.From:
			t.Fatalf("change from %v, monitor is %v", c.From, m.State)
		case m.State == score.Paused:
			t.Fatalf("paused pair changed: %v", c)
		}
		seen[c.MonitorID] = true
		switch {
		case c.From == score.None:
			bootstrapRow := c.To == score.Testing && c.Reason == ReasonBootstrap && m.Global.Works()
			if (c.To != score.Candidate && !bootstrapRow) || m.Global == GlobalDeleted {
				t.Fatalf("bad new row: %v (global %v)", c, m.Global)
			}
			if bootstrapRow {
				bootstraps++
			}
		case c.To == score.Active:
			cat[promotions]++
			activesAfter++
			if c.From != score.Testing || m.Global != GlobalActive || m.Health.Points < cfg.MinPointsActive {
				t.Fatalf("bad promotion to active: %v of %+v", c, m)
			}
		case c.To == score.Testing && c.From == score.Candidate && c.Reason == ReasonBootstrap:
			bootstraps++
			if !m.Global.Works() {
				t.Fatalf("bad bootstrap promotion: %v of %+v", c, m)
			}
		case c.To == score.Testing && c.From == score.Candidate:
			cat[promotions]++
			if !m.Global.Works() || m.Health.Points < cfg.MinPointsTesting {
				t.Fatalf("bad promotion to testing: %v of %+v", c, m)
			}
		case c.From == score.Active:
			cat[activeDemotions]++
			activesAfter--
		case c.From == score.Testing && c.To == score.Candidate:
			cat[testingDemotions]++
		default:
			t.Fatalf("unexpected change %v", c)
		}
	}
	if bootstraps > cfg.BootstrapTesting || (bootstraps > 0 && testing > 0) {
		t.Fatalf("%d bootstrap promotions with %d testing monitors before the run", bootstraps, testing)
	}
	limit := max(cfg.MaxChanges, cfg.MaxChangesBlocked, cfg.MaxChangesBootstrap)
	for k, n := range cat {
		if n > limit {
			t.Fatalf("category %d: %d changes in one run", k, n)
		}
	}
	if actives > 0 && activesAfter == 0 {
		// Only blocked monitors may take the last active one away.
		for _, c := range changes {
			if c.From == score.Active && c.Reason != ReasonBlocked && c.Reason != ReasonUnhealthy {
				t.Fatalf("last active monitor removed for %v", c.Reason)
			}
		}
	}
}

func apply(ms []MonitorStatus, changes []Change) {
	for _, c := range changes {
		for i := range ms {
			if ms[i].ID == c.MonitorID {
				ms[i].State = c.To
			}
		}
	}
}

// FuzzPlanConverges runs the selection again and again on a random server
// until nothing changes: every run keeps the per-run rules, the plan settles
// within a few runs, and the settled selection breaks no constraint.
func FuzzPlanConverges(f *testing.F) {
	for seed := range uint64(40) {
		f.Add(seed, uint8(seed*7))
	}
	cfg := DefaultConfig()
	f.Fuzz(func(t *testing.T, seed uint64, n uint8) {
		r := rand.New(rand.NewPCG(seed, 99))
		srv, ms := randomMonitors(r, int(n%70))
		for run := range 40 {
			changes := Plan(srv, ms, cfg)
			checkRun(t, ms, changes, cfg)
			if len(changes) == 0 {
				if v := violations(srv, ms, cfg); len(v) > 0 {
					t.Fatalf("settled after %d runs with violations: %v", run, v)
				}
				return
			}
			apply(ms, changes)
		}
		t.Fatalf("no fixed point after 40 runs: %v", Plan(srv, ms, cfg))
	})
}
