package web

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/alert"
	"github.com/ntppool-ng/ntppool/controlplane/mail/mailtest"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/wait"
)

// TestRunMailsAlertsAndCountsZones runs the background jobs on a fast
// clock: a failing server's owner gets the alert through SMTP, the zone
// counts are stored, and Run returns when its context ends.
func TestRunMailsAlertsAndCountsZones(t *testing.T) {
	t.Parallel()
	rules := alert.DefaultConfig()
	rules.CheckEvery, rules.RemoveEvery = 20*time.Millisecond, time.Hour
	s := newSite(t, func(c *Config) { c.Alert, c.ZoneCountsEvery, c.CleanupEvery = rules, 20*time.Millisecond, time.Hour })
	_, u := s.signUp("alerted@example.test")
	ctx := context.Background()
	if _, err := s.st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr("192.0.2.66"), AccountID: u.AccountID, Netspeed: 1000, Country: "nl", InPool: true, Score: -42}); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.web.Run(runCtx) }()

	waitCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	m, ok := s.smtp.WaitFor(waitCtx, func(m mailtest.Message) bool { return strings.Contains(m.Body, "192.0.2.66") })
	if !ok {
		t.Fatal("no alert mail")
	}
	if m.To[0] != "alerted@example.test" || !strings.Contains(m.Body, "score -42.0") {
		t.Errorf("alert mail to %v:\n%s", m.To, m.Body)
	}
	var rows []store.ZoneCount
	if !wait.Until(10*time.Second, func() bool {
		var err error
		if rows, err = s.st.ZoneCounts(ctx, "nl"); err != nil {
			t.Fatal(err)
		}
		return len(rows) == 2 && rows[0].Registered == 1
	}) {
		t.Fatalf("zone counts not stored: %+v", rows)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
