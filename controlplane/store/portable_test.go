package store

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// The methods the other store tests do not reach, run on both backends so
// SQL that one database reads differently shows here and not in production.
func TestServerAndMonitorQueriesOnEveryBackend(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		acct, uid := webFixture(t, st)
		var ids []int64
		for _, ip := range []string{"192.0.2.1", "192.0.2.2", "2001:db8::a"} {
			id, err := st.CreateServer(ctx, Server{IP: netip.MustParseAddr(ip), AccountID: acct, Netspeed: 1000, InPool: true, CreatedAt: now})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if got, err := st.AdminServers(ctx, "2001:DB8", 10); err != nil || len(got) != 1 || got[0].ID != ids[2] {
			t.Fatalf("AdminServers(2001:DB8) = %v, %v", got, err)
		}
		if got, err := st.AdminServers(ctx, "", 2); err != nil || len(got) != 2 || got[0].ID != ids[2] {
			t.Fatalf("AdminServers('', 2) = %v, %v", got, err)
		}
		if n, err := st.CountServersByAccount(ctx, acct); err != nil || n != 3 {
			t.Fatalf("CountServersByAccount = %d, %v", n, err)
		}
		if err := st.SetServerNetspeed(ctx, 0, ids[0], 5000); err != nil {
			t.Fatal(err)
		}
		if err := st.SetServerStratum(ctx, ids[0], 2); err != nil {
			t.Fatal(err)
		}
		if err := st.SetServerScore(ctx, ids[0], 12.5, now); err != nil {
			t.Fatal(err)
		}
		if s, err := st.AccountServer(ctx, acct, ids[0]); err != nil || s.Netspeed != 5000 || s.Stratum != 2 || s.Score != 12.5 || !s.LastScoreUpdate.Equal(now) {
			t.Fatalf("AccountServer = %+v, %v", s, err)
		}
		if err := st.DeleteServerNow(ctx, ids[1], now); err != nil {
			t.Fatal(err)
		}
		if s, err := st.LatestServerByIP(ctx, "192.0.2.2"); err != nil || s.ID != ids[1] || !s.DeletedAt.Equal(now) {
			t.Fatalf("LatestServerByIP = %+v, %v", s, err)
		}
		if l, err := st.Servers(ctx); err != nil || len(l) != 2 {
			t.Fatalf("Servers = %v, %v", l, err)
		}
		if l, err := st.ServersByAccount(ctx, acct); err != nil || len(l) != 2 {
			t.Fatalf("ServersByAccount = %v, %v", l, err)
		}
		if l, err := st.ServersByID(ctx, ids); err != nil || len(l) != 3 {
			t.Fatalf("ServersByID = %v, %v", l, err)
		}

		mid, err := st.CreateMonitor(ctx, Monitor{Name: "m1", TokenHash: "th", State: MonitorActive, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateMonitor(ctx, Monitor{Name: "m1", TokenHash: "other"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate monitor name: %v", err)
		}
		if err := st.SetMonitorToken(ctx, mid, "th2"); err != nil {
			t.Fatal(err)
		}
		if err := st.SetMonitorState(ctx, mid, MonitorPending); err != nil {
			t.Fatal(err)
		}
		if m, err := st.MonitorByTokenHash(ctx, "th2"); err != nil || m.ID != mid || m.State != MonitorPending {
			t.Fatalf("MonitorByTokenHash = %+v, %v", m, err)
		}
		if m, err := st.MonitorByName(ctx, "m1"); err != nil || m.ID != mid {
			t.Fatalf("MonitorByName = %+v, %v", m, err)
		}
		if l, err := st.Monitors(ctx); err != nil || len(l) != 1 {
			t.Fatalf("Monitors = %v, %v", l, err)
		}
		for _, id := range []int64{ids[0], ids[2]} {
			if _, err := st.AddMonitorServer(ctx, mid, id, PairCandidate, now); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SetMonitorServerState(ctx, mid, ids[2], PairActive); err != nil {
			t.Fatal(err)
		}
		f := WorkFilter{Now: now, Active: time.Minute, Testing: 2 * time.Minute, Slow: 5 * time.Minute,
			SlowScore: 0, MinRescore: 10 * time.Second, Limit: 10}
		// ids[0] was scored at now: within MinRescore, not due.
		work, err := st.MonitorWork(ctx, mid, f)
		if err != nil || len(work) != 1 || work[0].ServerID != ids[2] {
			t.Fatalf("MonitorWork = %v, %v", work, err)
		}
		if err := st.MarkHandedOut(ctx, mid, []int64{ids[0], ids[2]}, now); err != nil {
			t.Fatal(err)
		}
		if work, err := st.MonitorWork(ctx, mid, f); err != nil || len(work) != 0 {
			t.Fatalf("MonitorWork after handout = %v, %v", work, err)
		}
		// The active pair (score 0 is at SlowScore, so slow) and the
		// candidate: both slow, due 5 min on.
		if next, err := st.NextWork(ctx, mid, f); err != nil || !next.Equal(now.Add(5*time.Minute)) {
			t.Fatalf("NextWork = %v, %v; want %v", next, err, now.Add(5*time.Minute))
		}
		if p, err := st.ServerPairs(ctx, ids[2]); err != nil || len(p) != 1 || p[0].State != PairActive || !p[0].LastHandedOut.Equal(now) {
			t.Fatalf("ServerPairs = %+v, %v", p, err)
		}
		if p, err := st.PairsOfServers(ctx, ids); err != nil || len(p) != 2 {
			t.Fatalf("PairsOfServers = %+v, %v", p, err)
		}
		off := 0.002
		if err := st.AddLogScores(ctx, []LogScore{{ServerID: ids[0], MonitorID: mid, Time: now, Step: 1, Score: 1, Offset: &off},
			{ServerID: ids[0], Time: now.Add(time.Second), Score: 1}}); err != nil {
			t.Fatal(err)
		}
		if g, err := st.ScoreGraph(ctx, ids[0], now.Add(-time.Hour), 10); err != nil || len(g) != 2 || g[0].MonitorID != mid || !g[0].Offset.Valid || g[0].Offset.Float64 != off {
			t.Fatalf("ScoreGraph = %+v, %v", g, err)
		}

		if err := st.ConfirmUserEmail(ctx, uid, now); err != nil {
			t.Fatal(err)
		}
		if err := st.SetUserAdmin(ctx, uid, true); err != nil {
			t.Fatal(err)
		}
		if err := st.SetUserPassword(ctx, uid, "h2"); err != nil {
			t.Fatal(err)
		}
		if u, err := st.UsersByAccount(ctx, acct); err != nil || len(u) != 1 || !u[0].IsAdmin || u[0].PasswordHash != "h2" || !u[0].EmailConfirmedAt.Equal(now) {
			t.Fatalf("UsersByAccount = %+v, %v", u, err)
		}
		if u, err := st.Users(ctx, 10); err != nil || len(u) != 1 {
			t.Fatalf("Users = %+v, %v", u, err)
		}
		if err := st.CreateSession(ctx, "s", uid, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteUserSessions(ctx, uid); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SessionUser(ctx, "s", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session after DeleteUserSessions: %v", err)
		}
		if err := st.CreateInvitation(ctx, "inv", acct, uid, "c@example.test", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteInvitation(ctx, "inv"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Invitation(ctx, "inv", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("invitation after delete: %v", err)
		}

		if _, err := st.CreateVendorZone(ctx, VendorZone{Name: "acme", AccountID: acct, ClientType: "sntp", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateVendorZone(ctx, VendorZone{Name: "acme"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate vendor zone: %v", err)
		}
		if err := st.SetVendorZoneStatus(ctx, "acme", VendorApproved, now); err != nil {
			t.Fatal(err)
		}
		if v, err := st.VendorZoneByName(ctx, "acme"); err != nil || v.Status != VendorApproved || !v.ApprovedAt.Equal(now) {
			t.Fatalf("VendorZoneByName = %+v, %v", v, err)
		}
		if l, err := st.VendorZones(ctx, VendorApproved); err != nil || len(l) != 1 {
			t.Fatalf("VendorZones = %v, %v", l, err)
		}
		if l, err := st.VendorZonesByAccount(ctx, acct); err != nil || len(l) != 1 {
			t.Fatalf("VendorZonesByAccount = %v, %v", l, err)
		}
	})
}
