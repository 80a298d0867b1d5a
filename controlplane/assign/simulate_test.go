package assign

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
)

// TestFastPoolNewServerInDNSWithinAMinute runs the rules the way the
// control plane does, on the one-command pool's fast clock: one local
// monitor, one new server answering perfectly. It must be in the DNS within
// a minute and end with the monitor active for it.
func TestFastPoolNewServerInDNSWithinAMinute(t *testing.T) {
	const every = 2 * time.Second
	ac, sc := Local().Fast(every), score.DefaultConfig().Fast(every)
	srv := Server{IP: netip.MustParseAddr("127.0.0.10"), AccountID: 1}
	mon := MonitorStatus{ID: 1, AccountID: 1, IP: netip.MustParseAddr("127.0.0.1"), Global: GlobalActive}
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

	var (
		perMonitor, overall float64
		handed, scored      time.Time
		lastRun             = start.Add(-time.Hour)
		runChanged          bool
		probes              int // in the health window: all of them here
		inDNS               time.Duration
	)
	perfect := 0.001
	for now := start; now.Before(start.Add(10 * time.Minute)); now = now.Add(100 * time.Millisecond) {
		if !now.Before(ac.NextRun(lastRun, runChanged)) {
			mon.Health = Health{Points: probes, AvgStep: 1, AvgRTT: time.Millisecond}
			changes := Plan(srv, []MonitorStatus{mon}, ac)
			for _, c := range changes {
				mon.State = c.To
			}
			lastRun, runChanged = now, len(changes) > 0
		}
		if !ac.Due(now, Pair{State: mon.State, Global: mon.Global, Score: perMonitor, Handed: handed, Scored: scored}) {
			continue
		}
		handed = now
		st := sc.Step(score.Probe{Offset: &perfect, Stratum: 2})
		perMonitor = sc.Next(perMonitor, st)
		probes++
		row := score.MonitorScore{MonitorID: 1, State: mon.State, Score: perMonitor, RTT: time.Millisecond, Time: now}
		if o, ok := sc.RecentMedian(now, []score.MonitorScore{row}); ok {
			overall, scored = o.Score, now
		}
		if inDNS == 0 && sc.InDNS(now, score.Server{Score: overall, NetSpeed: 1000}) {
			inDNS = now.Sub(start)
		}
	}
	if inDNS == 0 || inDNS > time.Minute {
		t.Errorf("new server entered the DNS after %v, want within a minute", inDNS)
	}
	t.Logf("in the DNS after %v", inDNS)
	if mon.State != score.Active {
		t.Errorf("after 10 minutes the monitor is %v for the server, want active", mon.State)
	}
}
