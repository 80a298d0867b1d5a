package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/test"

	"github.com/ntppool-ng/ntppool/controlplane/publish"
	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/controlplane/web"
	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/wait"
)

// dig asks the DNS server at addr for name's A records with the real dig
// and returns them.
func dig(t *testing.T, addr, name string) []string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("dig", "@"+host, "-p", port, "+short", "+time=1", "+tries=1", name, "A").Output()
	if err != nil {
		t.Fatalf("dig %s: %v (dig is installed by scripts/install-test-deps)", name, err)
	}
	return strings.Fields(string(out))
}

// webUser is a browser-like client of the site: cookies, same-origin posts.
type webUser struct {
	base string
	hc   *http.Client
}

func (u webUser) post(t *testing.T, path string, form url.Values) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := u.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func logIn(t *testing.T, st *store.Store, base, email string, admin bool) webUser {
	t.Helper()
	ctx := context.Background()
	acct, _ := st.CreateAccount(ctx, email)
	hash, _ := store.HashPassword("correct horse battery")
	if _, err := st.CreateUser(ctx, store.User{AccountID: acct, Email: email, PasswordHash: hash, IsAdmin: admin, EmailConfirmedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	u := webUser{base: base, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if code := u.post(t, "/login", url.Values{"email": {email}, "password": {"correct horse battery"}}); code != http.StatusSeeOther {
		t.Fatalf("log-in of %s: %d", email, code)
	}
	return u
}

// TestVendorZoneFromRequestToDig: a vendor asks for a zone on the manage
// site, an admin approves it on the admin page, and from then on CoreDNS
// with the ntppool plugin answers the vendor's names, asked with dig.
func TestVendorZoneFromRequestToDig(t *testing.T) {
	ctx := context.Background()
	etcd, cli := embedetcd.StartForTest(t)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "vendor.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srvIP := netip.MustParseAddr("81.2.69.170")
	id, err := st.CreateServer(ctx, store.Server{IP: srvIP, Netspeed: 1500, Country: "gb", InPool: true})
	if err != nil {
		t.Fatal(err)
	}
	st.SetServerScore(ctx, id, 20, time.Now())

	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	pub := publish.New(cli, st, publish.Config{Debounce: 20 * time.Millisecond, Recheck: time.Hour,
		Score: score.DefaultConfig(), Log: log})
	lead(t, cli, pub, log)

	site, err := web.New(web.Config{PoolZone: "pool.ntp.test"},
		web.Deps{Store: st, Registry: registry.New(st, registry.Config{}), Logger: log, Changed: pub.ChangedAll})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(site.Handler())
	t.Cleanup(ts.Close)

	inst, udp, _, err := test.CoreDNSServerAndPorts(fmt.Sprintf(`pool.ntp.test:0 {
    ntppool {
        endpoint %s
        ns ns1.example.net
    }
}`, etcd.Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Stop() })

	vendor := logIn(t, st, ts.URL, "vendor@example.test", false)
	code := vendor.post(t, "/manage/vendors", url.Values{"name": {"acme-clock"}, "description": {"Kitchen clocks that ask once a day."},
		"expected_clients": {"50000"}, "client_type": {"ntp"}})
	if code != http.StatusSeeOther {
		t.Fatalf("vendor zone request: %d", code)
	}
	// Requested is not published.
	if got := dig(t, udp, "0.acme-clock.pool.ntp.test"); len(got) != 0 {
		t.Fatalf("an unapproved vendor zone answers: %v", got)
	}
	admin := logIn(t, st, ts.URL, "root@example.test", true)
	if code := admin.post(t, "/admin/vendors/acme-clock/status", url.Values{"status": {"approved"}}); code != http.StatusSeeOther {
		t.Fatalf("approval: %d", code)
	}
	took := wait.For(t, 5*time.Second, "0.acme-clock.pool.ntp.test answering "+srvIP.String(), func() bool {
		got := dig(t, udp, "0.acme-clock.pool.ntp.test")
		return len(got) == 1 && got[0] == srvIP.String()
	})
	t.Logf("approval to a dig answer: %v", took)
	// Client type "ntp": the bare name is not answered.
	if got := dig(t, udp, "acme-clock.pool.ntp.test"); len(got) != 0 {
		t.Errorf("bare name of an ntp-type vendor zone answers %v", got)
	}
}
