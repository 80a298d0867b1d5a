package web

import (
	"context"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// chromiumPath is Debian's chromium, installed by scripts/install-test-deps.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Chromium for the test. A missing browser fails
// the test: CI installs it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Fatalf("chromium missing (%v): run scripts/install-test-deps", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	return ctx
}

// shoot saves full-page screenshots of the current page at desktop and
// phone sizes into the test's artifact folder.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := t.ArtifactDir()
	for _, vp := range []struct {
		suffix string
		w, h   int64
		mobile bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		var opts []chromedp.EmulateViewportOption
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(2))
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.w, vp.h, opts...)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+vp.suffix+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserSignUpToScoreGraph walks the main path in real Chromium:
// sign up, confirm by the mailed link, log in, add a server, see it listed,
// and open its score page with the graph.
func TestBrowserSignUpToScoreGraph(t *testing.T) {
	s := newSite(t, nil)
	// Some servers, so the home page has counts.
	seedServer(t, s.st, 0, "192.0.2.10", 3)
	seedServer(t, s.st, 0, "2001:db8::10", 3)
	ctx := newBrowser(t)
	u := s.ts.URL

	if err := chromedp.Do(ctx, chromedp.Navigate(u+"/"), chromedp.WaitVisible("table.counts")); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "home")

	err := chromedp.Do(ctx,
		chromedp.Navigate(u+"/signup"),
		chromedp.SendKeys("#email", "browser@example.test"),
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click(`button[type="submit"]`),
		chromedp.WaitVisible(`//h1[contains(., "Check your email")]`),
	)
	if err != nil {
		t.Fatalf("sign-up: %v", err)
	}
	link := s.mailLink("browser@example.test", "Confirm")
	err = chromedp.Do(ctx,
		chromedp.Navigate(u+link),
		chromedp.WaitVisible(`//h1[contains(., "Address confirmed")]`),
		chromedp.Navigate(u+"/login"),
		chromedp.SendKeys("#email", "browser@example.test"),
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click(`button[type="submit"]`),
		chromedp.WaitVisible("#servers"),
	)
	if err != nil {
		t.Fatalf("confirm and log in: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#ip", "127.0.0.3"),
		chromedp.Click(`//button[contains(., "Add server")]`),
		chromedp.WaitVisible(`//p[contains(., "The server was added")]`),
		chromedp.Navigate(u+"/manage"),
		chromedp.WaitVisible("table#servers"),
	)
	if err != nil {
		t.Fatalf("add server: %v", err)
	}
	listed, err := chromedp.Run(ctx, chromedp.Text("table#servers"))
	if err != nil || !strings.Contains(listed, "127.0.0.3") {
		t.Fatalf("server not listed: %q %v", listed, err)
	}

	// Verify it: the server's page gives the command, run here from the
	// server's own address.
	srv, err := s.st.ServerByIP(context.Background(), netip.MustParseAddr("127.0.0.3"))
	if err != nil {
		t.Fatal(err)
	}
	serverPage := u + "/manage/servers/" + strconvI(srv.ID)
	err = chromedp.Do(ctx,
		chromedp.Navigate(serverPage),
		chromedp.WaitVisible(`//dd[@id="ownership"][contains(., "not verified")]`),
		chromedp.Click(`//button[contains(., "Get the verification command")]`),
		chromedp.WaitVisible("#verify-command"),
	)
	if err != nil {
		t.Fatalf("verification command: %v", err)
	}
	shoot(t, ctx, "verify")
	command, err := chromedp.Run(ctx, chromedp.Text("#verify-command"))
	m := verifyURLRE.FindStringSubmatch(command)
	if err != nil || m == nil {
		t.Fatalf("verification command %q (%v)", command, err)
	}
	if code, body := fetchFrom(t, "127.0.0.3", http.MethodGet, m[1]); code != http.StatusOK {
		t.Fatalf("verify from the server: %d %s", code, body)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(serverPage), chromedp.WaitVisible(`//dd[@id="ownership"][contains(., "verified on")]`)); err != nil {
		t.Fatalf("server page after verification: %v", err)
	}

	// Give the new server a history, as the monitors would.
	addHistory(t, s.st, srv.ID, 60)
	if err := chromedp.Do(ctx, chromedp.Navigate(u+"/manage"), chromedp.WaitVisible("table#servers")); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "manage")

	err = chromedp.Do(ctx,
		chromedp.Click(`//table[@id="servers"]//a[contains(@href, "/scores/127.0.0.3")]`),
		chromedp.WaitVisible("#score-graph svg"),
	)
	if err != nil {
		t.Fatalf("score page: %v", err)
	}
	paths, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#score-graph svg path").length`))
	if err != nil || paths < 2 {
		t.Fatalf("score graph has %d lines (%v)", paths, err)
	}
	dots, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#offset-graph svg circle").length`))
	if err != nil || dots < 30 {
		t.Fatalf("offset graph has %d dots (%v)", dots, err)
	}
	// The graph fits a phone's width: no horizontal scrolling.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || overflow {
		t.Errorf("score page scrolls sideways on a phone (%v)", err)
	}
	shoot(t, ctx, "score")

	// The server's own manage page, and a zone page with its history.
	if err := chromedp.Do(ctx, chromedp.Navigate(u+"/manage/servers/"+strconvI(srv.ID)), chromedp.WaitVisible("#netspeed")); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "server")
	var rows []store.ZoneCount
	for d := range 60 {
		day := time.Now().UTC().AddDate(0, 0, -60+d)
		for v, n := range map[int]int{4: 40 + d/3, 6: 12 + d/5} {
			rows = append(rows, store.ZoneCount{Zone: "europe", IPVersion: v, Day: day.Format("2006-01-02"), TS: day, Registered: n + 5, Active: n, Netspeed: int64(n) * 1000})
		}
	}
	if err := s.st.SaveZoneCounts(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(u+"/zone/europe"), chromedp.WaitVisible("figure.chart svg")); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "zone")
}

// addHistory writes n probes of two monitors and the overall score, one
// a minute up to now, climbing from 0 as a new server's score does.
func addHistory(t *testing.T, st *store.Store, serverID int64, n int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	var mons []int64
	for _, name := range []string{"fra1", "sin1"} {
		id, err := st.CreateMonitor(ctx, store.Monitor{Name: name, Location: name[:3], TokenHash: store.HashToken(name), State: store.MonitorActive})
		if err != nil {
			t.Fatal(err)
		}
		st.AddMonitorServer(ctx, id, serverID, "active", now)
		mons = append(mons, id)
	}
	score := 0.0
	for i := range n {
		ts := now.Add(-time.Duration(n-i) * time.Minute)
		score = 0.95*score + 1
		for j, m := range mons {
			off := 0.0004 * float64((i+j)%5-2)
			rtt := 0.02 + 0.1*float64(j)
			st.AddLogScore(ctx, store.LogScore{ServerID: serverID, MonitorID: m, Time: ts, Step: 1, Score: score - float64(j), Offset: &off, RTT: &rtt})
		}
		st.AddLogScore(ctx, store.LogScore{ServerID: serverID, Time: ts, Step: 1, Score: score})
	}
	st.SetServerScore(ctx, serverID, score, now)
}
