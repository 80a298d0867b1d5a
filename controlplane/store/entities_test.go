package store

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// webFixture adds an account with one user to st.
func webFixture(t *testing.T, st *Store) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	acct, err := st.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	uid, err := st.CreateUser(ctx, User{AccountID: acct, Email: "A@Example.test", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return acct, uid
}

func TestSessionsExpireAndEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		_, uid := webFixture(t, st)
		ctx := context.Background()
		now := time.Now()
		if err := st.CreateSession(ctx, "h1", uid, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if u, err := st.SessionUser(ctx, "h1", now); err != nil || u.ID != uid || u.Email != "a@example.test" {
			t.Fatalf("session user %+v %v", u, err)
		}
		if _, err := st.SessionUser(ctx, "h1", now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		if err := st.DeleteSession(ctx, "h1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SessionUser(ctx, "h1", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted session: %v", err)
		}
	})
}

func TestEmailTokenWorksOnceForItsPurpose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		_, uid := webFixture(t, st)
		ctx := context.Background()
		now := time.Now()
		if err := st.CreateEmailToken(ctx, "t", uid, TokenConfirm, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UseEmailToken(ctx, "t", TokenReset, now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("wrong purpose accepted: %v", err)
		}
		if got, err := st.UseEmailToken(ctx, "t", TokenConfirm, now); err != nil || got != uid {
			t.Fatalf("use: %d %v", got, err)
		}
		if _, err := st.UseEmailToken(ctx, "t", TokenConfirm, now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second use accepted: %v", err)
		}
	})
}

func TestInvitations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, uid := webFixture(t, st)
		ctx := context.Background()
		now := time.Now()
		if err := st.CreateInvitation(ctx, "i", acct, uid, "B@example.test", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		in, err := st.Invitation(ctx, "i", now)
		if err != nil || in.AccountID != acct || in.Email != "b@example.test" {
			t.Fatalf("invitation %+v %v", in, err)
		}
		list, err := st.InvitationsByAccount(ctx, acct, now)
		if err != nil || len(list) != 1 {
			t.Fatalf("list %v %v", list, err)
		}
		if err := st.CancelInvitation(ctx, acct+1, "b@example.test"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("other account cancelled: %v", err)
		}
		if err := st.CancelInvitation(ctx, acct, "b@example.test"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDeleteAccountKeepsHistoryWithoutOwner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, uid := webFixture(t, st)
		ctx := context.Background()
		now := time.Now()
		sid, err := st.CreateServer(ctx, Server{IP: netip.MustParseAddr("192.0.2.1"), AccountID: acct, Netspeed: 1000, InPool: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateSession(ctx, "h", uid, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.RemoveAccountUser(ctx, acct+1, uid); !errors.Is(err, ErrNotFound) {
			t.Fatalf("removed a user of another account: %v", err)
		}
		if err := st.DeleteAccount(ctx, acct, now); err != nil {
			t.Fatal(err)
		}
		srv, err := st.Server(ctx, sid)
		if err != nil || srv.DeletedAt.IsZero() || srv.AccountID != 0 {
			t.Fatalf("server after account deletion %+v %v", srv, err)
		}
		if _, err := st.SessionUser(ctx, "h", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session outlived account: %v", err)
		}
		if _, err := st.User(ctx, uid); !errors.Is(err, ErrNotFound) {
			t.Fatalf("user outlived account: %v", err)
		}
	})
}

func TestZoneCountsUpsertPerDay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)
		rows := []ZoneCount{{Zone: "de", IPVersion: 6, Day: "2026-01-02", TS: t0, Registered: 2, Active: 1, Netspeed: 1000},
			{Zone: "de", IPVersion: 4, Day: "2026-01-02", TS: t0, Registered: 5, Active: 3, Netspeed: 3000}}
		if err := st.SaveZoneCounts(ctx, rows); err != nil {
			t.Fatal(err)
		}
		rows[1].Active, rows[1].TS = 4, t0.Add(4*time.Hour)
		if err := st.SaveZoneCounts(ctx, rows[1:]); err != nil {
			t.Fatal(err)
		}
		got, err := st.ZoneCounts(ctx, "de")
		if err != nil || len(got) != 2 || got[0].IPVersion != 4 || got[0].Active != 4 || !got[0].TS.Equal(t0.Add(4*time.Hour)) {
			t.Fatalf("zone counts %+v %v", got, err)
		}
	})
}

func TestAlertStateRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, _ := webFixture(t, st)
		ctx := context.Background()
		sid, err := st.CreateServer(ctx, Server{IP: netip.MustParseAddr("192.0.2.1"), AccountID: acct, Netspeed: 1000, InPool: true, Score: -50})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateServer(ctx, Server{IP: netip.MustParseAddr("192.0.2.2"), AccountID: acct, Netspeed: 1000, InPool: true, Score: 20}); err != nil {
			t.Fatal(err)
		}
		c, err := st.AlertCandidates(ctx, -15)
		if err != nil || len(c) != 1 || c[0].Server.ID != sid || !c[0].Alert.Last.IsZero() {
			t.Fatalf("candidates %+v %v", c, err)
		}
		now := time.Now().Truncate(time.Millisecond)
		if err := st.SaveAlertState(ctx, AlertState{ServerID: sid, First: now, Last: now, LastScore: -50}); err != nil {
			t.Fatal(err)
		}
		c, err = st.AlertCandidates(ctx, -15)
		if err != nil || len(c) != 1 || !c[0].Alert.Last.Equal(now) || c[0].Alert.LastScore != -50 {
			t.Fatalf("candidates %+v %v", c, err)
		}
		if err := st.SaveAlertState(ctx, AlertState{ServerID: sid}); err != nil {
			t.Fatal(err)
		}
		if c, _ = st.AlertCandidates(ctx, -100); len(c) != 0 {
			t.Fatalf("cleared state still listed: %+v", c)
		}
	})
}

func TestScoreLogFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, _ := webFixture(t, st)
		ctx := context.Background()
		sid, err := st.CreateServer(ctx, Server{IP: netip.MustParseAddr("192.0.2.1"), AccountID: acct, Netspeed: 1000, InPool: true})
		if err != nil {
			t.Fatal(err)
		}
		mid, err := st.CreateMonitor(ctx, Monitor{Name: "m1", TokenHash: "th", State: MonitorActive})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 10 {
			ts := t0.Add(time.Duration(i) * time.Minute).UnixMilli()
			if _, err := st.DB().ExecContext(ctx, st.backend.rebind(`INSERT INTO log_scores (server_id, monitor_id, ts, step, score, clock_offset, rtt) VALUES (?, ?, ?, 1, ?, 0.001, 0.02)`), sid, mid, ts, float64(i)); err != nil {
				t.Fatal(err)
			}
			if _, err := st.DB().ExecContext(ctx, st.backend.rebind(`INSERT INTO log_scores (server_id, ts, score) VALUES (?, ?, ?)`), sid, ts, float64(i)); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name  string
			q     LogQuery
			n     int
			first float64
		}{
			{"overall newest first", LogQuery{ServerID: sid, Monitor: LogOverall, Limit: 3}, 3, 9},
			{"all monitors", LogQuery{ServerID: sid, Monitor: LogAllMonitor, Limit: 100}, 20, 9},
			{"one monitor since, oldest first", LogQuery{ServerID: sid, Monitor: mid, Since: t0.Add(5 * time.Minute), Limit: 100}, 4, 6},
			{"after window", LogQuery{ServerID: sid, Monitor: mid, After: t0.Add(8 * time.Minute), Limit: 100}, 2, 9},
		} {
			rows, err := st.ScoreLog(ctx, tc.q)
			if err != nil || len(rows) != tc.n || rows[0].Score != tc.first {
				t.Errorf("%s: %d rows, first %+v, err %v", tc.name, len(rows), rows, err)
			}
		}
		mons, err := st.ServerMonitors(ctx, sid)
		if err != nil || len(mons) != 0 {
			t.Fatalf("monitors %+v %v", mons, err)
		}
	})
}

func TestDeleteExpiredWebRows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *Store) {
		acct, uid := webFixture(t, st)
		ctx := context.Background()
		now := time.Now()
		st.CreateSession(ctx, "old", uid, now.Add(-2*time.Hour), now.Add(-time.Hour))
		st.CreateSession(ctx, "new", uid, now, now.Add(time.Hour))
		st.CreateEmailToken(ctx, "tok", uid, TokenReset, now.Add(-2*time.Hour), now.Add(-time.Hour))
		st.CreateInvitation(ctx, "inv", acct, uid, "b@example.test", now.Add(-2*time.Hour), now.Add(-time.Hour))
		if err := st.DeleteExpiredWebRows(ctx, now); err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]int{"sessions": 1, "email_tokens": 0, "invitations": 0} {
			var n int
			st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n)
			if n != want {
				t.Errorf("%s: %d rows, want %d", table, n, want)
			}
		}
	})
}
