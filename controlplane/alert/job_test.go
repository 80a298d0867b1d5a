package alert_test

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/alert"
	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/mail/mailtest"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

type jobFixture struct {
	st   *store.Store
	smtp *mailtest.Server
	job  *alert.Job
	now  time.Time
	acct int64
}

func newJobFixture(t *testing.T) *jobFixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "alert.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &jobFixture{st: st, smtp: mailtest.Start(t), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.acct, _ = st.CreateAccount(ctx, "a")
	st.CreateUser(ctx, store.User{AccountID: f.acct, Email: "owner@example.test", EmailConfirmedAt: f.now})
	st.CreateUser(ctx, store.User{AccountID: f.acct, Email: "unconfirmed@example.test"})
	m := mail.New(mail.Config{Host: f.smtp.Host(), Port: f.smtp.Port(), From: "pool@example.test"}, slog.New(slog.DiscardHandler))
	f.job = alert.NewJob(alert.JobConfig{Rules: alert.DefaultConfig(), SiteName: "Test Pool", BaseURL: "http://pool.test"},
		st, m, slog.New(slog.DiscardHandler), func() time.Time { return f.now }, nil)
	return f
}

func (f *jobFixture) server(t *testing.T, ip string, score float64) int64 {
	t.Helper()
	id, err := f.st.CreateServer(context.Background(), store.Server{IP: netip.MustParseAddr(ip), AccountID: f.acct, Netspeed: 1000, InPool: true, Score: score})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAlertEmailListsFailingServersAndRepeatsAfter14Days(t *testing.T) {
	f := newJobFixture(t)
	ctx := context.Background()
	bad := f.server(t, "192.0.2.1", -50)
	f.server(t, "192.0.2.2", -20) // failing too: listed
	f.server(t, "192.0.2.3", 15)  // fine: not listed
	if err := f.job.Check(ctx); err != nil {
		t.Fatal(err)
	}
	m := f.smtp.Next(t, 5*time.Second)
	if len(m.To) != 1 || m.To[0] != "owner@example.test" {
		t.Errorf("recipients %v (only confirmed users)", m.To)
	}
	if !strings.Contains(m.Subject, "2 of your servers") || !strings.Contains(m.Body, "192.0.2.1  score -50.0") ||
		!strings.Contains(m.Body, "192.0.2.2") || strings.Contains(m.Body, "192.0.2.3") || !strings.Contains(m.Body, "http://pool.test/scores/192.0.2.1") {
		t.Errorf("alert mail:\n%s\n%s", m.Subject, m.Body)
	}
	// Within 14 days: no repeat.
	f.now = f.now.Add(13 * 24 * time.Hour)
	if err := f.job.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if p := f.smtp.Pending(); len(p) != 0 {
		t.Fatalf("repeated too early: %v", p[0].Subject)
	}
	// After 14 days: again.
	f.now = f.now.Add(2 * 24 * time.Hour)
	if err := f.job.Check(ctx); err != nil {
		t.Fatal(err)
	}
	f.smtp.Next(t, 5*time.Second)
	// Recovered: the alert clears, and a new drop alerts at once.
	f.st.SetServerScore(ctx, bad, 12, f.now)
	if err := f.job.Check(ctx); err != nil {
		t.Fatal(err)
	}
	cands, _ := f.st.AlertCandidates(ctx, -15)
	for _, c := range cands {
		if c.Server.ID == bad {
			t.Errorf("alert of a recovered server not cleared: %+v", c.Alert)
		}
	}
	if p := f.smtp.Pending(); len(p) != 0 {
		t.Fatalf("mail on recovery: %v", p[0].Subject)
	}
}

func TestAutomaticRemovalSchedulesDeletionAndMails(t *testing.T) {
	f := newJobFixture(t)
	ctx := context.Background()
	id := f.server(t, "192.0.2.9", -60)
	f.st.SaveAlertState(ctx, store.AlertState{ServerID: id, First: f.now.Add(-46 * 24 * time.Hour), Last: f.now.Add(-6 * 24 * time.Hour), LastScore: -60})
	young := f.server(t, "192.0.2.10", -60)
	f.st.SaveAlertState(ctx, store.AlertState{ServerID: young, First: f.now.Add(-10 * 24 * time.Hour), Last: f.now.Add(-6 * 24 * time.Hour), LastScore: -60})
	if err := f.job.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	srv, _ := f.st.Server(ctx, id)
	if want := f.now.Add(48 * time.Hour); !srv.DeletionOn.Equal(want) {
		t.Errorf("deletion on %v, want %v", srv.DeletionOn, want)
	}
	if srv, _ := f.st.Server(ctx, young); !srv.DeletionOn.IsZero() {
		t.Error("a server alerted only 10 days ago was removed")
	}
	m := f.smtp.Next(t, 5*time.Second)
	if !strings.Contains(m.Subject, "192.0.2.9 removed") || !strings.Contains(m.Body, "2026-03-03") {
		t.Errorf("removal mail:\n%s\n%s", m.Subject, m.Body)
	}
	// Removed once: the next run does nothing.
	if err := f.job.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if p := f.smtp.Pending(); len(p) != 0 {
		t.Fatalf("second removal mail: %v", p[0].Subject)
	}
}
