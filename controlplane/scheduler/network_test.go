package scheduler

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// The selection sees each monitor's address of the server's family and
// its account, from the store: a dual-stack monitor gets pairs on servers
// of both families, single-stack ones on their own; a monitor in the
// server's /24 or run by the server's owner is never promoted, not even by
// the bootstrap rule.
func TestSelectionUsesMonitorAddressesAndAccounts(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	owner, _ := st.CreateAccount(ctx, "owner")
	addr := netip.MustParseAddr
	srv := map[string]int64{}
	for _, ip := range []string{"192.0.2.9", "198.51.100.9", "2001:db8:1::9"} {
		acct := int64(0)
		if ip == "198.51.100.9" {
			acct = owner
		}
		id, err := st.CreateServer(ctx, store.Server{IP: addr(ip), AccountID: acct, Netspeed: 1000, InPool: true})
		if err != nil {
			t.Fatal(err)
		}
		srv[ip] = id
	}
	mon := map[string]int64{}
	for _, m := range []store.Monitor{
		{Name: "dual", IP4: addr("192.0.2.5"), IP6: addr("2001:db8:2::5")}, // in 192.0.2.9's /24
		{Name: "four", IP4: addr("203.0.113.5"), AccountID: owner},         // run by 198.51.100.9's owner
		{Name: "six", IP6: addr("2001:db8:30::5")},                         // another /44 than dual,
	} {
		m.TokenHash, m.State = m.Name, store.MonitorActive
		id, err := st.CreateMonitor(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		mon[m.Name] = id
	}
	cfg := assign.DefaultConfig()
	cfg.MinPointsTesting, cfg.MinPointsActive = 1, 2
	now := time.Now()
	s := New(st, Config{Assign: cfg, Now: func() time.Time { return now }})
	if _, err := s.Select(ctx, now, true); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"192.0.2.9": {"dual", "four"}, "198.51.100.9": {"dual", "four"}, "2001:db8:1::9": {"dual", "six"}}
	for ip, names := range want {
		got := states(t, st, srv[ip])
		if len(got) != len(names) {
			t.Errorf("%s: pairs %v, want monitors %v", ip, got, names)
		}
		for _, n := range names {
			// The bootstrap rule promotes eligible candidates to testing at
			// once; a monitor the constraints exclude stays a candidate.
			want := store.PairTesting
			if ip == "192.0.2.9" && n == "dual" || ip == "198.51.100.9" && n == "four" {
				want = store.PairCandidate
			}
			if got[mon[n]] != want {
				t.Errorf("%s: monitor %s is %q after the first pass, want %q", ip, n, got[mon[n]], want)
			}
		}
	}
	// Healthy data everywhere, then a few passes.
	rtt := 0.01
	for ip, names := range want {
		for _, n := range names {
			for k := range 3 {
				err := st.RecordProbes(ctx, []store.ProbeUpdate{{MonitorID: mon[n], ServerID: srv[ip], Score: 10, Step: 1,
					Time: now.Add(-time.Duration(k) * time.Minute), RTT: &rtt}}, cfg.HealthWindow)
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for range 4 {
		if _, err := s.Select(ctx, now, true); err != nil {
			t.Fatal(err)
		}
	}
	promoted := func(ip, name string) bool {
		st := states(t, st, srv[ip])[mon[name]]
		return st == store.PairTesting || st == store.PairActive
	}
	if promoted("192.0.2.9", "dual") {
		t.Error("a monitor in the server's /24 was promoted")
	}
	if promoted("198.51.100.9", "four") {
		t.Error("the owner's own monitor was promoted on its server")
	}
	if !promoted("192.0.2.9", "four") || !promoted("198.51.100.9", "dual") || !promoted("2001:db8:1::9", "dual") || !promoted("2001:db8:1::9", "six") {
		t.Errorf("eligible monitors not promoted: %v %v %v", states(t, st, srv["192.0.2.9"]), states(t, st, srv["198.51.100.9"]), states(t, st, srv["2001:db8:1::9"]))
	}
}
