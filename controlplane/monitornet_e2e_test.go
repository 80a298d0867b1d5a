package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/mail/mailtest"
	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/ntpserver"
	"github.com/ntppool-ng/ntppool/internal/testlog"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/record"
)

// webClient is a browser-like client of the site: a cookie jar, no
// redirects followed.
type webClient struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newWebClient(t *testing.T, base string) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *webClient) do(method, path string, form url.Values) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *webClient) logIn(email, pw string) {
	c.t.Helper()
	if code, body := c.do("POST", "/login", url.Values{"email": {email}, "password": {pw}}); code != http.StatusSeeOther {
		c.t.Fatalf("log-in %s: %d %s", email, code, body)
	}
}

// TestVolunteerDualStackMonitor: a volunteer signs up, registers a monitor
// with an IPv4 and an IPv6 address, a monitor admin approves it, and the
// real monitor binary, with one token, probes an IPv4 and an IPv6 server
// on loopback, each over its own family; the results show on both
// servers' score pages.
func TestVolunteerDualStackMonitor(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bin := filepath.Join(t.TempDir(), "monitor")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ntppool-ng/ntppool/monitor").CombinedOutput(); err != nil {
		t.Fatalf("go build monitor: %v\n%s", err, out)
	}
	v4, v6 := netip.MustParseAddr("127.0.0.41"), netip.MustParseAddr("::1")
	resp, err := ntpserver.ListenSamePort([]netip.Addr{v4, v6}, []ntpserver.Config{{}, {}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range resp {
		defer s.Close()
	}
	port := resp[0].Addr().Port()

	_, cli := startEtcd(t)
	smtp := mailtest.Start(t)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "net.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := appConfig{Listen: "127.0.0.1:0", Prefix: record.DefaultPrefix, Election: "/net-leader", LeaseTTL: 2 * time.Second,
		AllowPrivate: true, NTPPort: port, PoolZone: "pool.ntp.test", SiteName: "Test Pool", BaseURL: "http://127.0.0.1"}
	testRules(&cfg)
	cfg.Mail.Host, cfg.Mail.Port, cfg.Mail.From = smtp.Host(), smtp.Port(), "pool@example.test"
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := newApp(ctx, cfg, st, cli, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := a.listen()
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	done := make(chan struct{})
	go func() { a.run(ctx, ln); close(done) }()
	defer func() { cancel(); <-done }()
	for _, ip := range []netip.Addr{v4, v6} {
		if _, err := a.reg.Register(ctx, 0, registry.Input{Address: ip.String(), Country: "de"}); err != nil {
			t.Fatalf("register %s: %v", ip, err)
		}
	}

	// The volunteer signs up, confirms and registers a dual-stack monitor.
	vol := newWebClient(t, base)
	const pw = "correct horse battery"
	if code, body := vol.do("POST", "/signup", url.Values{"email": {"vol@example.test"}, "password": {pw}}); code != http.StatusOK {
		t.Fatalf("sign-up: %d %s", code, body)
	}
	msg := smtp.Next(t, 10*time.Second)
	link := regexp.MustCompile(`https?://\S+/confirm/\S+`).FindString(msg.Body)
	if link == "" {
		t.Fatalf("no confirmation link in %q", msg.Body)
	}
	u, _ := url.Parse(link)
	if code, body := vol.do("GET", u.Path, nil); code != http.StatusOK {
		t.Fatalf("confirm: %d %s", code, body)
	}
	vol.logIn("vol@example.test", pw)
	code, body := vol.do("POST", "/manage/monitors", url.Values{"name": {"dual1"}, "location": {"here"},
		"ip4": {"127.0.0.1"}, "ip6": {"::1"}})
	tok := regexp.MustCompile(`<pre class="token" id="token">([^<]+)</pre>`).FindStringSubmatch(body)
	if code != http.StatusOK || tok == nil {
		t.Fatalf("register monitor: %d %s", code, body)
	}
	m, err := st.MonitorByName(ctx, "dual1")
	if err != nil || m.State != store.MonitorPending || !m.V4 || !m.V6 {
		t.Fatalf("registered monitor %+v %v", m, err)
	}

	// Pending, the monitor API refuses it.
	req, _ := http.NewRequest("GET", base+"/monitor/v1/config", nil)
	req.Header.Set("Authorization", "Bearer "+tok[1])
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusForbidden {
		t.Fatalf("config of a pending monitor: %v %v", r, err)
	} else {
		r.Body.Close()
	}

	// A monitor admin approves it: pending -> testing -> active.
	if _, err := createUser(ctx, st, "madm@example.test", pw, false); err != nil {
		t.Fatal(err)
	}
	madm, _ := st.UserByEmail(ctx, "madm@example.test")
	if err := st.SetUserRole(ctx, madm.ID, store.RoleMonitorAdmin, true); err != nil {
		t.Fatal(err)
	}
	adm := newWebClient(t, base)
	adm.logIn("madm@example.test", pw)
	if code, body := adm.do("GET", "/admin/monitors", nil); code != http.StatusOK || !strings.Contains(body, "dual1") {
		t.Fatalf("admin monitors: %d %s", code, body)
	}
	for _, state := range []string{store.MonitorTesting, store.MonitorActive} {
		if code, _ := adm.do("POST", "/admin/monitors/"+strconv.FormatInt(m.ID, 10)+"/state", url.Values{"state": {state}}); code != http.StatusSeeOther {
			t.Fatalf("set %s: %d", state, code)
		}
	}

	// The real agent, with the one token.
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	os.WriteFile(tokFile, []byte(tok[1]+"\n"), 0o600)
	var agentLog testlog.Buffer
	cmd := exec.Command(bin, "-api-url", base+"/", "-token-file", tokFile, "-state-dir", dir, "-ntp-port", strconv.Itoa(int(port)),
		"-allow-private", "-skip-clock-check", "-metrics-listen", "", "-jitter", "-1ns")
	cmd.Stderr = &agentLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			for _, ip := range []netip.Addr{v4, v6} {
				srv, _ := st.ServerByIP(ctx, ip)
				pairs, _ := st.ServerPairs(ctx, srv.ID)
				_, sj := newWebClient(t, base).do("GET", "/scores/"+ip.String()+"/json", nil)
				t.Logf("server %s %+v pairs %+v json %s", ip, srv, pairs, sj)
			}
			t.Logf("agent log:\n%s", agentLog.String())
		}
	}()

	// Both servers get results from the one monitor, each probed over its
	// own family (the responders count what they answered).
	type scoresJSON struct {
		History []struct {
			MonitorID *int64 `json:"monitor_id"`
			Step      float64
		} `json:"history"`
		Monitors []struct {
			Name string `json:"name"`
		} `json:"monitors"`
	}
	for i, ip := range []netip.Addr{v4, v6} {
		took := wait.For(t, 20*time.Second, "results of dual1 on "+ip.String(), func() bool {
			code, body := newWebClient(t, base).do("GET", "/scores/"+ip.String()+"/json?monitor=dual1", nil)
			var sj scoresJSON
			if code != http.StatusOK || json.Unmarshal([]byte(body), &sj) != nil {
				return false
			}
			named := false
			for _, mj := range sj.Monitors {
				named = named || mj.Name == "dual1"
			}
			for _, h := range sj.History {
				if h.MonitorID != nil && *h.MonitorID == m.ID && h.Step > 0 && named {
					return true
				}
			}
			return false
		})
		t.Logf("approval to a good result on %s: %v", ip, took)
		if resp[i].Served() == 0 {
			t.Errorf("responder %s answered nothing", ip)
		}
	}
	seen, _ := st.Monitor(ctx, m.ID)
	if seen.LastSeen.IsZero() || seen.SeenIP != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("monitor after its calls: last seen %v from %v", seen.LastSeen, seen.SeenIP)
	}
	if !strings.Contains(agentLog.String(), "source6=::1") || !strings.Contains(agentLog.String(), "source4=127.0.0.1") {
		t.Errorf("the agent did not probe from its registered addresses; log:\n%s", agentLog.String())
	}
}
