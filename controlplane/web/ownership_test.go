package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// fetchFrom fetches url over real HTTP from the loopback source address
// src, as the owner's curl on the server would.
func fetchFrom(t *testing.T, src, method, url string) (int, string) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	req, _ := http.NewRequest(method, url, nil)
	r, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", method, url, src, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

var verifyURLRE = regexp.MustCompile(`curl -[46] (http://\S+/verify/[A-Z2-7]+)`)

// verifyURL asks for a verification command at tokenPath (a POST) and
// returns the link in it.
func verifyURL(t *testing.T, c *client, tokenPath string) string {
	t.Helper()
	r := c.post(tokenPath, nil)
	r.want(t, http.StatusOK, "on the server itself")
	m := verifyURLRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no verification command on the page:\n%s", r.body)
	}
	return m[1]
}

// verifyServer verifies the server of the manage page path from its
// address ip, through the site.
func verifyServer(t *testing.T, s *site, c *client, path, ip string) {
	t.Helper()
	if code, body := fetchFrom(t, ip, http.MethodGet, verifyURL(t, c, path+"/token")); code != http.StatusOK {
		t.Fatalf("verify from %s: %d %s", ip, code, body)
	}
}

func serverAt(t *testing.T, st *store.Store, ip string) store.Server {
	t.Helper()
	srv, err := st.ServerByIP(context.Background(), netip.MustParseAddr(ip))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// The command on the server's page verifies it when run from the server's
// address, over real HTTP from 127.0.0.x; from another address it is
// refused and nothing changes.
func TestVerifyFromTheServersAddress(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, _ := s.signUp("o@example.test")
	r := c.post("/manage/servers", url.Values{"ip": {"127.0.0.4"}})
	path := strings.TrimSuffix(r.Header.Get("Location"), "?done=added")
	c.get(path).want(t, http.StatusOK, `id="ownership">not verified`, "Get the verification command")
	c.get("/manage").want(t, http.StatusOK, "not verified")

	link := verifyURL(t, c, path+"/token")
	if !strings.HasPrefix(link, s.ts.URL+"/verify/") {
		t.Fatalf("link %q is not on the site %s", link, s.ts.URL)
	}
	for _, from := range []string{"127.0.0.5", "127.0.0.1"} {
		code, body := fetchFrom(t, from, http.MethodGet, link)
		if code != http.StatusForbidden || !strings.Contains(body, "came from "+from+", not from the server's address 127.0.0.4") {
			t.Fatalf("verify from %s: %d %q, want 403 naming both addresses", from, code, body)
		}
	}
	if srv := serverAt(t, s.st, "127.0.0.4"); !srv.VerifiedAt.IsZero() {
		t.Fatal("verified from the wrong address")
	}
	code, body := fetchFrom(t, "127.0.0.4", http.MethodPost, link)
	if code != http.StatusOK || !strings.Contains(body, "Verified: 127.0.0.4") {
		t.Fatalf("verify from the server: %d %q", code, body)
	}
	if srv := serverAt(t, s.st, "127.0.0.4"); srv.VerifiedAt.IsZero() {
		t.Fatal("not verified")
	}
	c.get(path).want(t, http.StatusOK, `id="ownership">verified on`)
	if code, _ := fetchFrom(t, "127.0.0.4", http.MethodGet, link); code != http.StatusNotFound {
		t.Fatalf("used link: %d, want 404", code)
	}
	c.get("/verify/nonsense").want(t, http.StatusNotFound, "unknown or has expired")
	c.post(path+"/token", nil).want(t, http.StatusUnprocessableEntity, `id="verify-err"`, "already verified")
}

// A second account adding a held address gets a claim; the owner keeps the
// server and can undo its scheduled deletion; verification from the
// address moves it.
func TestSecondAccountClaimsHeldAddress(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	owner, _ := s.signUp("owner@example.test")
	other, ou := s.signUp("other@example.test")
	r := owner.post("/manage/servers", url.Values{"ip": {"127.0.0.5"}})
	path := strings.TrimSuffix(r.Header.Get("Location"), "?done=added")
	verifyServer(t, s, owner, path, "127.0.0.5")
	owner.post(path+"/netspeed", url.Values{"netspeed": {"50000"}})
	owner.post(path+"/delete", url.Values{"days": {"3"}})
	held := serverAt(t, s.st, "127.0.0.5")

	r = other.post("/manage/servers", url.Values{"ip": {"127.0.0.5"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/manage?done=claimed" {
		t.Fatalf("claim: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	other.get("/manage?done=claimed").want(t, http.StatusOK, "Another account holds that address", `<table id="claims">`, "127.0.0.5", "You have no servers yet")
	other.post("/manage/servers", url.Values{"ip": {"127.0.0.5"}}).want(t, http.StatusUnprocessableEntity, "you already claimed 127.0.0.5")
	other.post(path+"/undelete", nil).want(t, http.StatusNotFound)

	// The owner's undo still works while the claim waits.
	if r := owner.post(path+"/undelete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("undo: %d\n%s", r.StatusCode, r.body)
	}
	srv := serverAt(t, s.st, "127.0.0.5")
	if srv.ID != held.ID || srv.Netspeed != 50000 || !srv.DeletionOn.IsZero() {
		t.Fatalf("owner's server after the claim and undo: %+v", srv)
	}

	claims, _ := s.st.AccountClaims(context.Background(), ou.AccountID)
	if len(claims) != 1 {
		t.Fatalf("claims %+v", claims)
	}
	claimPath := "/manage/claims/" + strconvI(claims[0].ID)
	owner.post(claimPath+"/token", nil).want(t, http.StatusNotFound)
	link := verifyURL(t, other, claimPath+"/token")
	if code, _ := fetchFrom(t, "127.0.0.6", http.MethodGet, link); code != http.StatusForbidden {
		t.Fatalf("claim verified from the wrong address: %d", code)
	}
	if srv := serverAt(t, s.st, "127.0.0.5"); srv.ID != held.ID {
		t.Fatal("the address moved without verification")
	}
	if code, body := fetchFrom(t, "127.0.0.5", http.MethodGet, link); code != http.StatusOK {
		t.Fatalf("claim verification: %d %s", code, body)
	}
	moved := serverAt(t, s.st, "127.0.0.5")
	if moved.ID == held.ID || moved.VerifiedAt.IsZero() || moved.Netspeed != registry.DefaultNetspeed {
		t.Fatalf("after the claim's verification: %+v", moved)
	}
	owner.get("/manage").want(t, http.StatusOK, "You have no servers yet")
	other.get("/manage").want(t, http.StatusOK, `<a href="/manage/servers/`+strconvI(moved.ID)+`">127.0.0.5</a>`)
}

// Unverified servers: only lower net speeds offered and accepted, and no
// third one; an admin can mark one verified.
func TestUnverifiedNetspeedAndCap(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, _ := s.signUp("o@example.test")
	r := c.post("/manage/servers", url.Values{"ip": {"127.0.0.2"}})
	path := strings.TrimSuffix(r.Header.Get("Location"), "?done=added")
	page := c.get(path)
	page.want(t, http.StatusOK, `<option value="10000" selected>`, `<option value="6000">`, "only lower values are offered")
	if strings.Contains(page.body, `<option value="12000">`) {
		t.Fatal("an unverified server is offered a higher net speed")
	}
	c.post(path+"/netspeed", url.Values{"netspeed": {"3000000"}}).want(t, http.StatusUnprocessableEntity, "can only be lowered")
	if srv := serverAt(t, s.st, "127.0.0.2"); srv.Netspeed != registry.DefaultNetspeed {
		t.Fatalf("net speed raised to %d", srv.Netspeed)
	}
	c.post("/manage/servers", url.Values{"ip": {"127.0.0.3"}})
	c.post("/manage/servers", url.Values{"ip": {"127.0.0.4"}}).want(t, http.StatusUnprocessableEntity, `id="ip-err"`, "2 servers or claims not verified yet")

	admin := s.admin("admin@example.test")
	admin.get("/admin/servers").want(t, http.StatusOK, "Mark verified")
	id := strings.TrimPrefix(path, "/manage/servers/")
	if r := admin.post("/admin/servers/"+id+"/verify", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin verify: %d", r.StatusCode)
	}
	if r := c.post("/manage/servers", url.Values{"ip": {"127.0.0.4"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after an admin verified one: %d\n%s", r.StatusCode, r.body)
	}
	if r := c.post(path+"/netspeed", url.Values{"netspeed": {"3000000"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("raising a verified server: %d", r.StatusCode)
	}
}

type mapResolver map[string][]netip.Addr

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := m[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// A hostname adds each of its addresses; the ones refused are named
// beside the field.
func TestAddServerByHostname(t *testing.T) {
	t.Parallel()
	s := newSiteWith(t, nil, siteOptions{resolver: mapResolver{
		"ntp.example.test": {mustAddr(silentNTP), mustAddr("127.0.0.8"), mustAddr("127.0.0.9")},
	}})
	c, u := s.signUp("o@example.test")
	r := c.post("/manage/servers", url.Values{"ip": {"ntp.example.test"}})
	r.want(t, http.StatusOK, "127.0.0.8 was added. 127.0.0.9 was added.", `id="ip-err"`, silentNTP+" did not answer an NTP query")
	srvs, _ := s.st.ServersByAccount(context.Background(), u.AccountID)
	if len(srvs) != 2 || srvs[0].IP.String() != "127.0.0.8" || srvs[1].IP.String() != "127.0.0.9" {
		t.Fatalf("servers %+v, want 127.0.0.8 and 127.0.0.9", srvs)
	}
	c.post("/manage/servers", url.Values{"ip": {"other.example.test"}}).want(t, http.StatusUnprocessableEntity, "other.example.test has no A or AAAA records")
}

// /verify/TOKEN is limited per client at the log-in rate: past the burst a
// client gets 429, even with a good token (nothing changes), and other
// clients are not affected.
func TestVerifyIsRateLimited(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *Config) { c.AuthRate, c.AuthBurst = rate.Every(time.Hour), 3 })
	c, _ := s.signUp("o@example.test")
	r := c.post("/manage/servers", url.Values{"ip": {"127.0.0.6"}})
	path := strings.TrimSuffix(r.Header.Get("Location"), "?done=added")
	link := verifyURL(t, c, path+"/token")
	for i := range 3 {
		if code, body := fetchFrom(t, "127.0.0.6", http.MethodGet, s.ts.URL+"/verify/nonsense"); code != http.StatusNotFound {
			t.Fatalf("guess %d: %d %q", i, code, body)
		}
	}
	code, body := fetchFrom(t, "127.0.0.6", http.MethodGet, link)
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Too many verification attempts") {
		t.Fatalf("past the burst: %d %q, want 429", code, body)
	}
	if srv := serverAt(t, s.st, "127.0.0.6"); !srv.VerifiedAt.IsZero() {
		t.Fatal("a limited request verified the server")
	}
	if code, body := fetchFrom(t, "127.0.0.7", http.MethodGet, s.ts.URL+"/verify/nonsense"); code != http.StatusNotFound {
		t.Fatalf("another client: %d %q", code, body)
	}
}

// A lapsed claim leaves the account's list at once (the retention job
// deletes it later) and gets no new verification command.
func TestLapsedClaimIsNotListed(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, u := s.signUp("o@example.test")
	ctx := context.Background()
	now := time.Now()
	claim := func(ip string, expires time.Time) int64 {
		id, err := s.st.CreateClaim(ctx, store.Claim{IP: netip.MustParseAddr(ip), AccountID: u.AccountID, CreatedAt: now, VerifyExpires: expires})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	claim("192.0.2.70", now.Add(time.Hour))
	lapsed := claim("192.0.2.71", now.Add(-time.Minute))
	page := c.get("/manage")
	page.want(t, http.StatusOK, `<table id="claims">`, "192.0.2.70")
	if strings.Contains(page.body, "192.0.2.71") {
		t.Error("the lapsed claim is listed")
	}
	c.post("/manage/claims/"+strconvI(lapsed)+"/token", nil).want(t, http.StatusNotFound)
}
