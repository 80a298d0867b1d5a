package store

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestMonitorAddressesAndFamilies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, _ := webFixture(t, st)
		ctx := context.Background()
		a4, a6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
		cases := []struct {
			m      Monitor
			v4, v6 bool
		}{
			{Monitor{Name: "dual", IP4: a4, IP6: a6, AccountID: acct}, true, true},
			{Monitor{Name: "six", IP6: a6}, false, true},
			{Monitor{Name: "mapped", IP4: netip.MustParseAddr("::ffff:192.0.2.3")}, true, false},
			{Monitor{Name: "none"}, true, false}, // an operator's local monitor: IPv4 as before
			{Monitor{Name: "told", IP4: a4, V6: true}, false, true},
		}
		for i, c := range cases {
			c.m.TokenHash = HashToken(c.m.Name)
			id, err := st.CreateMonitor(ctx, c.m)
			if err != nil {
				t.Fatalf("%s: %v", c.m.Name, err)
			}
			m, err := st.Monitor(ctx, id)
			if err != nil || m.V4 != c.v4 || m.V6 != c.v6 || m.Watches(4) != c.v4 || m.Watches(6) != c.v6 {
				t.Errorf("case %d %s: %+v %v", i, c.m.Name, m, err)
			}
			if m.IP4.IsValid() && !m.IP4.Is4() {
				t.Errorf("%s: IPv4 stored as %s", m.Name, m.IP4)
			}
		}
		dual, _ := st.MonitorByName(ctx, "dual")
		if dual.IP4 != a4 || dual.IP6 != a6 || dual.Addr(4) != a4 || dual.Addr(6) != a6 || dual.State != MonitorPending {
			t.Errorf("dual %+v", dual)
		}
		if !dual.Registered(a4) || !dual.Registered(a6) || !dual.Registered(netip.MustParseAddr("::ffff:192.0.2.1")) ||
			dual.Registered(netip.MustParseAddr("192.0.2.2")) {
			t.Error("Registered does not match exactly the monitor's addresses")
		}
		if only4 := (Monitor{IP4: a4}); only4.Registered(netip.Addr{}) {
			t.Error("an unknown address matched the empty IPv6 of an IPv4-only monitor")
		}
		if none, _ := st.MonitorByName(ctx, "none"); !none.Registered(netip.MustParseAddr("203.0.113.1")) {
			t.Error("a monitor without addresses must match any (nothing to check)")
		}
		for _, bad := range []Monitor{{Name: "b1", IP4: a6}, {Name: "b2", IP6: a4}, {Name: "b3", IP4: netip.MustParseAddr("0.0.0.0")},
			{Name: "b4", IP6: netip.MustParseAddr("ff02::1")}} {
			bad.TokenHash = bad.Name
			if _, err := st.CreateMonitor(ctx, bad); !errors.Is(err, ErrBadMonitorAddr) {
				t.Errorf("%s %v %v: %v, want ErrBadMonitorAddr", bad.Name, bad.IP4, bad.IP6, err)
			}
		}

		// The account sees and rotates only its own monitors.
		mine, err := st.MonitorsByAccount(ctx, acct)
		if err != nil || len(mine) != 1 || mine[0].Name != "dual" {
			t.Fatalf("monitors of the account: %+v %v", mine, err)
		}
		other, _ := st.CreateAccount(ctx, "other")
		if _, err := st.AccountMonitor(ctx, other, dual.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("another account's monitor: %v", err)
		}
		if err := st.SetAccountMonitorToken(ctx, other, dual.ID, "stolen"); !errors.Is(err, ErrNotFound) {
			t.Errorf("rotation by another account: %v", err)
		}
		if err := st.SetAccountMonitorToken(ctx, acct, dual.ID, "new"); err != nil {
			t.Fatal(err)
		}
		if m, err := st.MonitorByTokenHash(ctx, "new"); err != nil || m.ID != dual.ID {
			t.Errorf("rotated token: %+v %v", m, err)
		}
		if err := st.SetMonitorBehindNAT(ctx, dual.ID, true); err != nil {
			t.Fatal(err)
		}
		if m, _ := st.Monitor(ctx, dual.ID); !m.BehindNAT {
			t.Error("behind NAT not stored")
		}
	})
}

func TestMonitorHealthsSumThePairs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, _ := webFixture(t, st)
		ctx := context.Background()
		now := time.Now()
		mid, _ := st.CreateMonitor(ctx, Monitor{Name: "m", TokenHash: "m"})
		quiet, _ := st.CreateMonitor(ctx, Monitor{Name: "q", TokenHash: "q"})
		var servers []int64
		for _, ip := range []string{"192.0.2.50", "192.0.2.51"} {
			sid, _ := st.CreateServer(ctx, Server{IP: netip.MustParseAddr(ip), AccountID: acct, Netspeed: 1000, InPool: true})
			servers = append(servers, sid)
			for _, m := range []int64{mid, quiet} {
				if _, err := st.AddMonitorServer(ctx, m, sid, PairActive, now); err != nil {
					t.Fatal(err)
				}
			}
		}
		rtt := func(v float64) *float64 { return &v }
		// Server 1: steps 1 and -1 (RTT 10 and 30 ms); server 2: step 0.5
		// without a reply.
		for _, ups := range [][]ProbeUpdate{
			{{MonitorID: mid, ServerID: servers[0], Step: 1, Time: now.Add(-time.Hour), RTT: rtt(0.010)}, {MonitorID: mid, ServerID: servers[1], Step: 0.5, Time: now.Add(-time.Hour)}},
			{{MonitorID: mid, ServerID: servers[0], Step: -1, Time: now.Add(-time.Minute), RTT: rtt(0.030)}},
		} {
			if err := st.RecordProbes(ctx, ups, 24*time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		hs, err := st.MonitorHealths(ctx, now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		h := hs[mid]
		if len(hs) != 1 || h.Probes != 3 || h.AvgStep < 0.166 || h.AvgStep > 0.167 || h.AvgRTT < 0.0199 || h.AvgRTT > 0.0201 {
			t.Errorf("health %+v (all %+v)", h, hs)
		}
		if _, ok := hs[quiet]; ok {
			t.Error("a monitor without probes has a health")
		}
	})
}

func TestRolesAndAuditLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		_, uid := webFixture(t, st)
		ctx := context.Background()
		u, _ := st.User(ctx, uid)
		if u.Staff() || u.Has(RoleSupport) {
			t.Fatalf("a new user has roles: %+v", u)
		}
		for _, r := range []string{RoleSupport, RoleMonitorAdmin, RoleSupport} {
			if err := st.SetUserRole(ctx, uid, r, true); err != nil {
				t.Fatal(err)
			}
		}
		u, _ = st.User(ctx, uid)
		if !u.Has(RoleSupport) || !u.Has(RoleMonitorAdmin) || u.Has(RoleAdmin) || len(u.Roles) != 2 || !u.Staff() {
			t.Errorf("roles %+v", u.Roles)
		}
		st.SetUserRole(ctx, uid, RoleSupport, false)
		if staff, err := st.StaffUsers(ctx); err != nil || len(staff) != 1 || staff[0].Has(RoleSupport) || !staff[0].Has(RoleMonitorAdmin) {
			t.Errorf("staff after revoking support: %+v %v", staff, err)
		}
		st.SetUserRole(ctx, uid, RoleAdmin, true)
		if u, _ = st.User(ctx, uid); !u.IsAdmin || !u.Has(RoleSupport) {
			t.Errorf("admin holds every role: %+v", u)
		}
		if err := st.SetUserRole(ctx, uid, "root", true); err == nil {
			t.Error("unknown role accepted")
		}

		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		for i, a := range []string{"server.pool", "server.zone"} {
			if err := st.Audit(ctx, AuditEntry{At: t0.Add(time.Duration(i) * time.Minute), UserID: uid, Actor: u.Email,
				Action: a, Subject: "server 192.0.2.1", Detail: "d"}); err != nil {
				t.Fatal(err)
			}
		}
		log, err := st.AuditLog(ctx, 10)
		if err != nil || len(log) != 2 || log[0].Action != "server.zone" || !log[1].At.Equal(t0) || log[1].UserID != uid || log[1].Actor != "a@example.test" {
			t.Errorf("audit log %+v %v", log, err)
		}
	})
}

func TestSetServerInPool(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, _ := webFixture(t, st)
		ctx := context.Background()
		id, _ := st.CreateServer(ctx, Server{IP: netip.MustParseAddr("192.0.2.60"), AccountID: acct, Netspeed: 1000, InPool: true})
		if err := st.SetServerInPool(ctx, id, false); err != nil {
			t.Fatal(err)
		}
		if s, _ := st.Server(ctx, id); s.InPool {
			t.Error("still in the pool")
		}
		if err := st.SetServerInPool(ctx, 999, false); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown server: %v", err)
		}
	})
}
