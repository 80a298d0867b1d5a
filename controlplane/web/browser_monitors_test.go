package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// TestBrowserMonitorRegistrationAndApproval: in real Chromium a volunteer
// registers a dual-stack monitor (a refused form first), sees its token
// once and the monitor pending; a monitor admin approves it to testing and
// active and finds the change in the audit log.
func TestBrowserMonitorRegistrationAndApproval(t *testing.T) {
	s := newSite(t, nil)
	ctx := newBrowser(t)
	u := s.ts.URL
	logIn := func(email string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(u+"/login"),
			chromedp.SendKeys("#email", email),
			chromedp.SendKeys("#password", "correct horse battery"),
			chromedp.Click(`button[type="submit"]`),
			chromedp.WaitVisible("#servers"),
		)
		if err != nil {
			t.Fatalf("log in %s: %v", email, err)
		}
	}
	s.signUp("volunteer@example.test")
	logIn("volunteer@example.test")

	// A name with a space and no address: both refused beside their fields.
	err := chromedp.Do(ctx,
		chromedp.Click(`//nav//a[contains(., "My monitors")]`),
		chromedp.WaitVisible(`//h2[contains(., "Register a monitor")]`),
		chromedp.SendKeys("#name", "bad name"),
		chromedp.Click(`//button[contains(., "Register the monitor")]`),
		chromedp.WaitVisible("#name-err"),
		chromedp.WaitVisible("#ip4-err"),
	)
	if err != nil {
		t.Fatalf("refused form: %v", err)
	}
	shoot(t, ctx, "monitor-register-errors")
	err = chromedp.Do(ctx,
		chromedp.SetValue("#name", "ber1"),
		chromedp.SendKeys("#location", "Berlin, DE"),
		chromedp.SendKeys("#ip4", "192.0.2.5"),
		chromedp.SendKeys("#ip6", "2001:db8::5"),
		chromedp.Click(`//button[contains(., "Register the monitor")]`),
		chromedp.WaitVisible("#token"),
	)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	tok, err := chromedp.Run(ctx, chromedp.Text("#token"))
	if err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "monitor-token")
	m, err := s.st.MonitorByTokenHash(context.Background(), store.HashToken(strings.TrimSpace(tok)))
	if err != nil || m.State != store.MonitorPending || m.IP6.String() != "2001:db8::5" {
		t.Fatalf("the shown token finds %+v %v", m, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`//a[contains(., "Back to the monitors")]`),
		chromedp.WaitVisible(`//td[contains(@class, "monitor-state") and contains(., "pending")]`),
	)
	if err != nil {
		t.Fatalf("own list: %v", err)
	}
	shoot(t, ctx, "monitors-own")

	// The monitor admin approves it in two steps.
	_, mu := s.signUp("monadmin@example.test")
	if err := s.st.SetUserRole(context.Background(), mu.ID, store.RoleMonitorAdmin, true); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`//button[contains(., "Log out")]`), chromedp.WaitVisible(`//a[contains(., "Manage servers")]`)); err != nil {
		t.Fatal(err)
	}
	logIn("monadmin@example.test")
	row := `//tr[@id="monitor-` + strconvI(m.ID) + `"]`
	for _, state := range []string{store.MonitorTesting, store.MonitorActive} {
		err := chromedp.Do(ctx,
			chromedp.Navigate(u+"/admin/monitors"),
			chromedp.WaitVisible(row),
			chromedp.SetValue(`#state-`+strconvI(m.ID), state),
			chromedp.Click(row+`//form[contains(@action, "/state")]//button`),
			chromedp.WaitVisible(row+`//td[contains(@class, "monitor-state") and contains(., "`+state+`")]`),
		)
		if err != nil {
			t.Fatalf("approve to %s: %v", state, err)
		}
	}
	shoot(t, ctx, "admin-monitors")
	if got, _ := s.st.Monitor(context.Background(), m.ID); got.State != store.MonitorActive {
		t.Fatalf("state %q after approval", got.State)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`//nav[@aria-label="Admin"]//a[contains(., "Audit log")]`),
		chromedp.WaitVisible(`//td[contains(., "testing -> active")]`),
	)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	shoot(t, ctx, "admin-audit")
}
