package assign

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
)

var server = Server{IP: netip.MustParseAddr("192.0.2.10"), AccountID: 1}

// mon is a healthy, globally active monitor in its own account and /16,
// with plenty of data and RTT id*10 ms, so a lower id ranks better.
func mon(id int64, st score.State) MonitorStatus {
	return MonitorStatus{
		ID:        id,
		AccountID: 100 + id,
		IP:        netip.AddrFrom4([4]byte{10, byte(id), 0, 1}),
		Global:    GlobalActive,
		State:     st,
		Health:    Health{Points: 100, AvgStep: 1, AvgRTT: time.Duration(id) * 10 * time.Millisecond},
	}
}

// pool builds monitors 1..n in state st, starting at id from.
func pool(from, n int, st score.State) []MonitorStatus {
	var ms []MonitorStatus
	for i := range n {
		ms = append(ms, mon(int64(from+i), st))
	}
	return ms
}

// steady is 7 active (1-7), 5 testing (8-12) and 8 candidates (13-20).
func steady() []MonitorStatus {
	return slices.Concat(pool(1, 7, score.Active), pool(8, 5, score.Testing), pool(13, 8, score.Candidate))
}

func ch(id int64, from, to score.State, why Reason) Change {
	return Change{MonitorID: id, From: from, To: to, Reason: why}
}

const (
	A = score.Active
	T = score.Testing
	C = score.Candidate
	N = score.None
)

func check(t *testing.T, got, want []Change) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n got %v\nwant %v", got, want)
	}
}

func TestSteadyStateChangesNothing(t *testing.T) {
	check(t, Plan(server, steady(), DefaultConfig()), nil)
}

func TestNewMonitorsBecomeCandidates(t *testing.T) {
	ms := slices.Concat(steady(), pool(21, 3, N))
	ms[22].Global = GlobalDeleted
	check(t, Plan(server, ms, DefaultConfig()), []Change{ch(21, N, C, ReasonNew), ch(22, N, C, ReasonNew)})
}

// A new server (no rows) gets 5 testing monitors in its first run, the
// best first, without data and outside the change limits.
func TestBootstrapNewServerGetsFiveTesting(t *testing.T) {
	ms := pool(1, 8, N)
	for i := range ms {
		ms[i].Health = Health{}
	}
	ms[6].Global = GlobalDeleted
	slices.Reverse(ms) // input order must not matter
	check(t, Plan(server, ms, DefaultConfig()), []Change{
		ch(8, N, C, ReasonNew), ch(6, N, C, ReasonNew),
		ch(5, N, T, ReasonBootstrap), ch(4, N, T, ReasonBootstrap), ch(3, N, T, ReasonBootstrap),
		ch(2, N, T, ReasonBootstrap), ch(1, N, T, ReasonBootstrap),
	})
}

// Without testing monitors, up to 5 candidates become testing at once,
// healthy ones first and with fewer than 9 data points; the usual fill
// waits for the next run.
func TestBootstrapPromotesFiveBestCandidates(t *testing.T) {
	ms := pool(1, 20, C)
	for i := range ms {
		ms[i].Health.Points = 2
	}
	ms[0].Health.AvgStep = -1 // unhealthy: ranks after the healthy ones
	slices.Reverse(ms)
	check(t, Plan(server, ms, DefaultConfig()), []Change{
		ch(2, C, T, ReasonBootstrap), ch(3, C, T, ReasonBootstrap), ch(4, C, T, ReasonBootstrap),
		ch(5, C, T, ReasonBootstrap), ch(6, C, T, ReasonBootstrap),
	})
}

// The bootstrap keeps the constraints: at most 3 testing per account, none
// in the server's /24 or of its own account.
func TestBootstrapWithinConstraints(t *testing.T) {
	ms := pool(1, 10, C)
	for i := range 4 {
		ms[i].AccountID = 50 // 1-4 share an account
	}
	ms[4].IP = netip.MustParseAddr("192.0.2.99") // 5: in the server's /24
	ms[5].AccountID = server.AccountID           // 6: the owner's
	check(t, Plan(server, ms, DefaultConfig()), []Change{
		ch(1, C, T, ReasonBootstrap), ch(2, C, T, ReasonBootstrap), ch(3, C, T, ReasonBootstrap),
		ch(7, C, T, ReasonBootstrap), ch(8, C, T, ReasonBootstrap),
	})
}

// An active monitor in poor health leaves while a healthy one stays; when
// every active monitor is unhealthy (the server is at fault) they stay.
func TestUnhealthyActiveDemoted(t *testing.T) {
	ms := slices.Concat(pool(1, 7, A), pool(8, 5, T))
	ms[1].Health.AvgStep, ms[2].Health.AvgStep, ms[3].Health.AvgStep = -1, -2, -3
	check(t, Plan(server, ms, DefaultConfig()), []Change{
		ch(4, A, T, ReasonUnhealthy), ch(3, A, T, ReasonUnhealthy),
		ch(8, T, A, ReasonFill), ch(9, T, A, ReasonFill),
	})
	for i := range 12 {
		ms[i].Health.AvgStep = -1
	}
	check(t, Plan(server, ms, DefaultConfig()), nil)
}

func TestBootstrapFillsActiveFirst(t *testing.T) {
	ms := slices.Concat(pool(1, 6, T), pool(7, 10, C))
	check(t, Plan(server, ms, DefaultConfig()), []Change{
		ch(1, T, A, ReasonFill), ch(2, T, A, ReasonFill), ch(3, T, A, ReasonFill), ch(4, T, A, ReasonFill),
	})
}

func TestFillActiveWithinTwoPromotions(t *testing.T) {
	ms := slices.Concat(pool(1, 4, A), pool(5, 6, T), pool(11, 5, C))
	check(t, Plan(server, ms, DefaultConfig()), []Change{ch(5, T, A, ReasonFill), ch(6, T, A, ReasonFill)})
}

func TestDataPointThresholds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		st     score.State
		points int
		want   []Change
	}{
		{"31 points stay testing", T, 31, nil},
		{"32 points become active", T, 32, []Change{ch(9, T, A, ReasonFill)}},
		{"8 points stay candidate", C, 8, nil},
		{"9 points become testing", C, 9, []Change{ch(9, C, T, ReasonFill)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ms []MonitorStatus
			if tc.st == T { // one active slot free, testing full
				ms = slices.Concat(pool(1, 6, A), pool(10, 5, T))
			} else { // active full, one testing slot free
				ms = slices.Concat(pool(1, 7, A), pool(10, 4, T))
			}
			m := mon(9, tc.st)
			m.Health.Points = tc.points
			for i := range ms {
				ms[i].Health.Points = 0 // only monitor 9 may move
			}
			check(t, Plan(server, append(ms, m), DefaultConfig()), tc.want)
		})
	}
}

func TestOnlyGloballyActiveMonitorsBecomeActive(t *testing.T) {
	ms := slices.Concat(pool(1, 6, A), pool(7, 6, T))
	ms[6].Global = GlobalTesting // monitor 7, the best testing one
	check(t, Plan(server, ms, DefaultConfig()), []Change{ch(8, T, A, ReasonFill)})
}

func TestGloballyTestingActiveMonitorGoesBackToTesting(t *testing.T) {
	ms := steady()
	ms[2].Global = GlobalTesting // monitor 3
	check(t, Plan(server, ms, DefaultConfig()), []Change{
		ch(3, A, T, ReasonBlocked), ch(8, T, A, ReasonFill),
	})
}

func TestGloballyPausedMonitorsLeave(t *testing.T) {
	ms := steady()
	ms[2].Global = GlobalPaused  // active 3
	ms[8].Global = GlobalDeleted // testing 9
	check(t, Plan(server, ms, DefaultConfig()), []Change{
		ch(9, T, C, ReasonBlocked), ch(3, A, C, ReasonBlocked),
		ch(8, T, A, ReasonFill), ch(13, C, T, ReasonFill), ch(14, C, T, ReasonFill),
	})
}

func TestChangeLimitWithSeveralBlocked(t *testing.T) {
	ms := steady()
	for i := range 5 { // actives 1..5 paused: 5 blocked, limit 3
		ms[i].Global = GlobalPaused
	}
	got := Plan(server, ms, DefaultConfig())
	check(t, got, []Change{
		ch(5, A, C, ReasonBlocked), ch(4, A, C, ReasonBlocked), ch(3, A, C, ReasonBlocked),
		ch(8, T, A, ReasonFill), ch(9, T, A, ReasonFill), ch(10, T, A, ReasonFill),
	})
}

func TestChangeLimitWithOneBlocked(t *testing.T) {
	ms := steady()
	ms = append(ms[:7], append(pool(30, 3, T), ms[7:]...)...) // 8 testing: 3 too many
	ms[0].Global = GlobalPaused                               // 1 blocked: limit stays 2
	got := Plan(server, ms, DefaultConfig())
	check(t, got, []Change{
		ch(1, A, C, ReasonBlocked), ch(8, T, A, ReasonFill),
		ch(32, T, C, ReasonExcess), ch(31, T, C, ReasonExcess),
	})
}

func TestExcessActiveDemotedWorstFirst(t *testing.T) {
	ms := slices.Concat(pool(1, 10, A), pool(11, 5, T))
	check(t, Plan(server, ms, DefaultConfig()), []Change{
		ch(10, A, T, ReasonExcess), ch(9, A, T, ReasonExcess),
		ch(15, T, C, ReasonExcess), ch(14, T, C, ReasonExcess),
	})
}

// blocked3 is what happens when active monitor 3 of steady() is blocked: the
// best testing monitor takes its place and the best candidate that one's.
var blocked3 = []Change{ch(3, A, C, ReasonBlocked), ch(8, T, A, ReasonFill), ch(13, C, T, ReasonFill)}

func TestServerNetwork(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server string
		ip     string
		cfg    Config
		want   []Change
	}{
		{"same /24 is blocked", "192.0.2.10", "192.0.2.200", DefaultConfig(), blocked3},
		{"next /24 is fine", "192.0.2.10", "192.0.3.200", DefaultConfig(), nil},
		{"same /48 is blocked", "2001:db8:1:2::10", "2001:db8:1:ff::1", DefaultConfig(), blocked3},
		{"next /48 is fine", "2001:db8:1:2::10", "2001:db8:2:2::1", DefaultConfig(), nil},
		{"loopback pool allows it", "127.0.0.10", "127.0.0.1", Local(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := server
			s.IP = netip.MustParseAddr(tc.server)
			ms := steady()
			v6 := s.IP.Is6()
			for i := range ms {
				if v6 {
					ms[i].IP = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i + 1), 0})
				}
			}
			ms[2].IP = netip.MustParseAddr(tc.ip)
			check(t, Plan(s, ms, tc.cfg), tc.want)
		})
	}
}

func TestCandidateInServerNetworkIsNotPromoted(t *testing.T) {
	ms := slices.Concat(pool(1, 7, A), pool(8, 4, T), pool(12, 2, C))
	ms[11].IP = netip.MustParseAddr("192.0.2.99") // candidate 12
	check(t, Plan(server, ms, DefaultConfig()), []Change{ch(13, C, T, ReasonFill)})
}

func TestOwnAccount(t *testing.T) {
	ms := steady()
	ms[2].AccountID = server.AccountID
	check(t, Plan(server, ms, DefaultConfig()), blocked3)
	cfg := DefaultConfig()
	cfg.ExcludeOwnAccount = false
	check(t, Plan(server, ms, cfg), nil)
	noAccount := server
	noAccount.AccountID = 0
	ms[2].AccountID = 0
	check(t, Plan(noAccount, ms, DefaultConfig()), nil)
}

func TestAccountLimits(t *testing.T) {
	t.Run("third active of an account goes to testing", func(t *testing.T) {
		ms := steady()
		ms[1].AccountID, ms[3].AccountID, ms[5].AccountID = 50, 50, 50 // actives 2, 4, 6
		check(t, Plan(server, ms, DefaultConfig()), []Change{ch(6, A, T, ReasonBlocked), ch(8, T, A, ReasonFill)})
	})
	t.Run("fourth testing of an account goes to candidate", func(t *testing.T) {
		ms := steady()
		for i := 7; i < 11; i++ { // testing 8..11
			ms[i].AccountID = 50
		}
		check(t, Plan(server, ms, DefaultConfig()), []Change{ch(11, T, C, ReasonBlocked), ch(13, C, T, ReasonFill)})
	})
	t.Run("active plus testing at most 3", func(t *testing.T) {
		ms := steady()
		ms[0].AccountID, ms[1].AccountID, ms[7].AccountID, ms[8].AccountID = 50, 50, 50, 50 // active 1, 2; testing 8, 9
		check(t, Plan(server, ms, DefaultConfig()), []Change{ch(9, T, C, ReasonBlocked), ch(13, C, T, ReasonFill)})
	})
	t.Run("candidate of a full account is skipped", func(t *testing.T) {
		ms := slices.Concat(pool(1, 7, A), pool(8, 4, T), pool(12, 2, C))
		ms[0].AccountID, ms[1].AccountID, ms[7].AccountID, ms[11].AccountID = 50, 50, 50, 50
		check(t, Plan(server, ms, DefaultConfig()), []Change{ch(13, C, T, ReasonFill)})
	})
	t.Run("limits off", func(t *testing.T) {
		ms := steady()
		for i := range ms {
			ms[i].AccountID = 50
		}
		cfg := DefaultConfig()
		cfg.AccountMaxActive, cfg.AccountMaxTesting, cfg.AccountMaxTotal = 0, 0, 0
		check(t, Plan(server, ms, cfg), nil)
	})
}

func TestSpread(t *testing.T) {
	t.Run("two actives in one /20", func(t *testing.T) {
		ms := steady()
		ms[4].IP = netip.MustParseAddr("10.1.15.1") // active 5 next to active 1 (10.1.0.1)
		check(t, Plan(server, ms, DefaultConfig()), []Change{ch(5, A, C, ReasonBlocked), ch(8, T, A, ReasonFill), ch(13, C, T, ReasonFill)})
	})
	t.Run("next /20 is fine", func(t *testing.T) {
		ms := steady()
		ms[4].IP = netip.MustParseAddr("10.1.16.1")
		check(t, Plan(server, ms, DefaultConfig()), nil)
	})
	t.Run("testing in an active's /44", func(t *testing.T) {
		s := Server{IP: netip.MustParseAddr("2001:db8:ffff::1")}
		ms := steady()
		for i := range ms {
			ms[i].IP = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i), 0})
		}
		ms[9].IP = netip.MustParseAddr("2001:db8:0:f::1") // testing 10 in active 1's /44
		check(t, Plan(s, ms, DefaultConfig()), []Change{ch(10, T, C, ReasonBlocked), ch(13, C, T, ReasonFill)})
	})
	t.Run("candidate in a member's /20 is skipped", func(t *testing.T) {
		ms := slices.Concat(pool(1, 7, A), pool(8, 4, T), pool(12, 2, C))
		ms[11].IP = netip.MustParseAddr("10.8.1.1") // candidate 12 next to testing 8
		check(t, Plan(server, ms, DefaultConfig()), []Change{ch(13, C, T, ReasonFill)})
	})
	t.Run("spread off", func(t *testing.T) {
		ms := steady()
		for i := range ms {
			ms[i].IP = netip.MustParseAddr(fmt.Sprintf("10.0.0.%d", i+1))
		}
		cfg := DefaultConfig()
		cfg.SpreadV4 = 0
		check(t, Plan(server, ms, cfg), nil)
	})
}

// replacing is 7 active (1-7) and 5 testing (8-12) of which only 8 has the
// data points to become active.
func replacing() []MonitorStatus {
	ms := slices.Concat(pool(1, 7, A), pool(8, 5, T))
	for i := 8; i < 12; i++ {
		ms[i].Health.Points = 20
	}
	return ms
}

func TestReplacementMargin(t *testing.T) {
	// Active 1..7 with RTT 10..70 ms and step 1: priority = RTT in ms.
	for _, tc := range []struct {
		name string
		rtt  time.Duration // of testing monitor 8
		want []Change
	}{
		// The worst active has priority 70: 5% is 3.5 < 5 points.
		{"5 points better replaces", 65 * time.Millisecond, []Change{ch(8, T, A, ReasonReplace), ch(7, A, T, ReasonReplaced)}},
		{"4.9 points better does not", 65100 * time.Microsecond, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := replacing()
			ms[7].Health.AvgRTT = tc.rtt
			check(t, Plan(server, ms, DefaultConfig()), tc.want)
		})
	}
	for _, tc := range []struct {
		name string
		rtt  time.Duration
		want []Change
	}{
		// Worst active at 700 ms: 5% is 35 > 5 points.
		{"5% better replaces", 665 * time.Millisecond, []Change{ch(8, T, A, ReasonReplace), ch(7, A, T, ReasonReplaced)}},
		{"4.9% better does not", 666 * time.Millisecond, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := replacing()
			ms[6].Health.AvgRTT = 700 * time.Millisecond
			ms[7].Health.AvgRTT = tc.rtt
			check(t, Plan(server, ms, DefaultConfig()), tc.want)
		})
	}
	t.Run("priority weighs the average step", func(t *testing.T) {
		// Testing 8 at 20 ms but step 0.5: 20*(1+2*0.5) = 40 < 70-5.
		ms := replacing()
		ms[7].Health.AvgRTT, ms[7].Health.AvgStep = 20*time.Millisecond, 0.5
		check(t, Plan(server, ms, DefaultConfig()), []Change{ch(8, T, A, ReasonReplace), ch(7, A, T, ReasonReplaced)})
		// At step 0 it is 60: less than 5 points better than 70 is 65.
		ms[7].Health.AvgStep = 0
		ms[7].Health.AvgRTT = 22 * time.Millisecond // 66
		check(t, Plan(server, ms, DefaultConfig()), nil)
	})
	t.Run("healthy replaces unhealthy whatever the priority", func(t *testing.T) {
		ms := replacing()
		ms[6].Health.AvgStep = -0.1
		ms[6].Health.AvgRTT = time.Millisecond
		ms[7].Health.AvgRTT = time.Second
		check(t, Plan(server, ms, DefaultConfig()), []Change{ch(7, A, T, ReasonUnhealthy), ch(8, T, A, ReasonFill)})
	})
	t.Run("testing replaced by a better candidate", func(t *testing.T) {
		ms := slices.Concat(pool(1, 7, A), pool(8, 5, T), pool(13, 2, C))
		ms[12].Health.AvgRTT = 20 * time.Millisecond // candidate 13 beats testing 12 (120 ms)
		check(t, Plan(server, ms, DefaultConfig()), []Change{ch(13, C, T, ReasonReplace), ch(12, T, C, ReasonReplaced)})
	})
}

func TestLastActiveStays(t *testing.T) {
	sick := mon(1, A)
	sick.Health.AvgStep = -3
	// No better monitor: the last active is kept however poor.
	check(t, Plan(server, []MonitorStatus{sick, mon(2, C)}, DefaultConfig()), []Change{ch(2, C, T, ReasonBootstrap)})
	cfg := DefaultConfig()
	cfg.TargetActive = 0
	check(t, Plan(server, []MonitorStatus{sick}, cfg), nil)
	// A replacement keeps one active.
	cfg.TargetActive = 1
	check(t, Plan(server, []MonitorStatus{sick, mon(2, T)}, cfg), []Change{ch(2, T, A, ReasonReplace), ch(1, A, T, ReasonReplaced)})
}

func TestNoDataRanksLast(t *testing.T) {
	ms := pool(1, 3, C)
	ms[0].Health = Health{}
	cfg := DefaultConfig()
	cfg.MinPointsTesting = 0
	cfg.BootstrapTesting = 2
	check(t, Plan(server, ms, cfg), []Change{ch(2, C, T, ReasonBootstrap), ch(3, C, T, ReasonBootstrap)})
}

func TestOtherIPVersionIgnored(t *testing.T) {
	ms := pool(1, 2, N)
	ms[0].IP = netip.MustParseAddr("2001:db8::1")
	check(t, Plan(server, ms, DefaultConfig()), []Change{ch(2, N, T, ReasonBootstrap)})
}

func TestPlanLeavesInputAndPausedAlone(t *testing.T) {
	ms := steady()
	ms[0].State = score.Paused
	before := slices.Clone(ms)
	Plan(server, ms, DefaultConfig())
	if !slices.Equal(before, ms) {
		t.Error("Plan modified its input")
	}
	for _, c := range Plan(server, ms, DefaultConfig()) {
		if c.MonitorID == 1 {
			t.Errorf("paused pair changed: %v", c)
		}
	}
}

func TestManyMonitors(t *testing.T) {
	ms := pool(1, 200, C)
	got := Plan(server, ms, DefaultConfig())
	if len(got) != 5 {
		t.Errorf("200 candidates: %d changes, want 5 (the bootstrap)", len(got))
	}
}

func TestGlobalStateNames(t *testing.T) {
	for g := GlobalPending; g <= GlobalDeleted; g++ {
		if got, err := ParseGlobalState(g.String()); err != nil || got != g {
			t.Errorf("ParseGlobalState(%q) = %v, %v", g, got, err)
		}
	}
	if _, err := ParseGlobalState("x"); err == nil {
		t.Error("ParseGlobalState accepted x")
	}
	if ReasonReplaced.String() != "replaced" || Reason(99).String() != "Reason(99)" {
		t.Error("Reason.String")
	}
}

// TestNewServerSettles follows a new server from no rows to the targets:
// 7 active and 5 testing monitors, at most 4 promotions per run.
func TestNewServerSettles(t *testing.T) {
	ms := pool(1, 20, N)
	cfg := DefaultConfig()
	runs := 0
	for ; runs < 20; runs++ {
		changes := Plan(server, ms, cfg)
		if len(changes) == 0 {
			break
		}
		apply(ms, changes)
	}
	var n [score.Paused + 1]int
	for _, m := range ms {
		n[m.State]++
	}
	if n[A] != 7 || n[T] != 5 || n[C] != 8 {
		t.Errorf("settled after %d runs at %d active, %d testing, %d candidates", runs, n[A], n[T], n[C])
	}
	for _, m := range ms[:7] {
		if m.State != A {
			t.Errorf("monitor %d (among the 7 best) is %v", m.ID, m.State)
		}
	}
}
