package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

var now0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestLimiterRefusedRequestsCreateNothing(t *testing.T) {
	t.Parallel()
	l := newLimiter(0)
	r := rule{rate.Every(time.Hour), 1}
	if !l.allow(now0, limit{tableClients, r, keyOf("client", "a")}) {
		t.Fatal("first attempt refused")
	}
	for i := range 1000 {
		if l.allow(now0, limit{tableClients, r, keyOf("client", "a")}, limit{tableClients, r, keyOf("email", fmt.Sprint(i))}) {
			t.Fatal("limit not applied")
		}
	}
	if n := l.len(); n != 1 {
		t.Errorf("refused requests left %d buckets, want 1", n)
	}
}

func TestLimiterIsBounded(t *testing.T) {
	t.Parallel()
	l := newLimiter(100)
	r := rule{rate.Every(time.Hour), 1}
	for i := range 1000 {
		if !l.allow(now0, limit{tableClients, r, keyOf("client", fmt.Sprint(i))}) {
			t.Fatalf("new client %d refused", i)
		}
	}
	if n := l.len(); n > 100 || n < 90 {
		t.Errorf("%d buckets, want 90 to 100 (the cap)", n)
	}
	if tb := l.tables[tableClients]; len(tb.queue) > 200 {
		t.Errorf("eviction queue holds %d", len(tb.queue))
	}
	// The newest are kept, the oldest dropped.
	if l.allow(now0, limit{tableClients, r, keyOf("client", "999")}) {
		t.Error("newest bucket was dropped")
	}
	if !l.allow(now0, limit{tableClients, r, keyOf("client", "0")}) {
		t.Error("oldest bucket was kept")
	}
}

// TestLimiterPrunesAsRequestsCome: pruning needs no leader job; any
// request a minute after the last pruning does it.
func TestLimiterPrunesAsRequestsCome(t *testing.T) {
	t.Parallel()
	l := newLimiter(0)
	r := rule{rate.Every(time.Second), 1}
	for i := range 50 {
		l.allow(now0, limit{tableClients, r, keyOf("client", fmt.Sprint(i))})
	}
	l.allow(now0.Add(2*time.Minute), limit{tableClients, r, keyOf("client", "late")})
	if n := l.len(); n != 1 {
		t.Errorf("%d buckets after pruning, want 1", n)
	}
}

func TestKeysAreFixedSize(t *testing.T) {
	t.Parallel()
	l := newLimiter(0)
	long := strings.Repeat("a", 64<<10) + "@example.test"
	l.allow(now0, limit{tableClients, rule{1, 1}, keyOf("email", long)})
	for k := range l.tables[tableClients].m {
		if len(k) != 16 {
			t.Errorf("key of %d bytes", len(k))
		}
	}
}

// The site reads its client from X-Forwarded-For of a trusted proxy (the
// rules are package clientip's).
func TestClientAddr(t *testing.T) {
	t.Parallel()
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.9")
	if got := s.clientAddr(r); got != netip.MustParseAddr("198.51.100.9") {
		t.Errorf("behind a trusted proxy: client %s", got)
	}
	// IPv6 clients are limited by /64.
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "[2001:db8:1:2:3:4:5:6]:80"
	if got := s.clientKey(r); got != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 client key %s", got)
	}
	r.RemoteAddr = "192.0.2.1:80"
	if got := s.clientKey(r); got != "192.0.2.1/32" {
		t.Errorf("IPv4 client key %s", got)
	}
}

// loginFails posts a wrong password n times and returns the statuses seen.
func loginFails(t *testing.T, c *client, email string, n int) map[int]int {
	t.Helper()
	seen := map[int]int{}
	for i := range n {
		r := c.post("/login", url.Values{"email": {email}, "password": {fmt.Sprintf("wrong guess %d", i)}})
		seen[r.StatusCode]++
	}
	return seen
}

// TestTrustedProxyGivesClientsTheirOwnLimits: behind a trusted proxy two
// clients have separate limits; an untrusted peer's X-Forwarded-For is
// ignored, so rotating it does not escape the limit.
func TestTrustedProxyGivesClientsTheirOwnLimits(t *testing.T) {
	t.Parallel()
	mod := func(c *Config) { c.AuthRate, c.AuthBurst = rate.Every(time.Hour), 3 }
	behind := newSite(t, func(c *Config) {
		mod(c)
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	a, b := behind.client(), behind.client()
	a.xff, b.xff = "198.51.100.1", "198.51.100.2"
	if got := loginFails(t, a, "x@example.test", 4); got[http.StatusTooManyRequests] != 1 {
		t.Fatalf("client a: %v, want the 4th refused", got)
	}
	if got := loginFails(t, b, "y@example.test", 3); got[http.StatusUnauthorized] != 3 {
		t.Fatalf("client b shares a's limit: %v", got)
	}

	direct := newSite(t, mod)
	c := direct.client()
	for i := range 3 {
		c.xff = fmt.Sprintf("198.51.100.%d", i)
		loginFails(t, c, "x@example.test", 1)
	}
	c.xff = "198.51.100.99"
	if got := loginFails(t, c, "z@example.test", 1); got[http.StatusTooManyRequests] != 1 {
		t.Fatalf("untrusted X-Forwarded-For escaped the limit: %v", got)
	}
}

// TestOneClientCannotLockOutAnAccount: an attacker guessing at a chosen
// account from one client is stopped, and the owner logs in from another.
// When many clients drain the account's budget, a client that logged in
// before still gets through.
func TestOneClientCannotLockOutAnAccount(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		c.AccountBurst = 8
	})
	owner, _ := s.signUp("victim@example.test")
	owner.post("/logout", nil)
	owner.xff = "192.0.2.200"
	owner.post("/login", url.Values{"email": {"victim@example.test"}, "password": {"correct horse battery"}}).want(t, http.StatusSeeOther)
	owner.post("/logout", nil)

	attacker := s.client()
	attacker.xff = "198.51.100.1"
	if got := loginFails(t, attacker, "victim@example.test", 20); got[http.StatusTooManyRequests] != 15 {
		t.Fatalf("attacker: %v, want 5 guesses then refusals", got)
	}
	newcomer := s.client()
	newcomer.xff = "203.0.113.50"
	newcomer.post("/login", url.Values{"email": {"victim@example.test"}, "password": {"correct horse battery"}}).want(t, http.StatusSeeOther)
	newcomer.post("/logout", nil)

	// Many attacking clients empty the account's budget (8, of which the
	// first attacker took 5; a right password takes nothing) ...
	for i := range 5 {
		c := s.client()
		c.xff = fmt.Sprintf("2001:db8:%d::1", i)
		loginFails(t, c, "victim@example.test", 1)
	}
	fresh := s.client()
	fresh.xff = "203.0.113.77"
	if got := loginFails(t, fresh, "victim@example.test", 1); got[http.StatusTooManyRequests] != 1 {
		t.Fatalf("account budget not applied: %v", got)
	}
	// ... but the owner's usual client is not locked out.
	owner.post("/login", url.Values{"email": {"victim@example.test"}, "password": {"correct horse battery"}}).want(t, http.StatusSeeOther)
}

// TestRefusedPasswordPathsCostNoBcrypt: a reset with an unknown token and
// log-ins or account deletions past the limits never reach bcrypt.
func TestRefusedPasswordPathsCostNoBcrypt(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *Config) {
		c.AuthRate, c.AuthBurst = rate.Every(time.Hour), 3
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	c, _ := s.signUp("a@example.test")
	c.xff = "192.0.2.1"
	before := s.web.bcrypts.Load()
	for i := range 20 {
		c.post(fmt.Sprintf("/reset/NOSUCHTOKEN%d", i), url.Values{"password": {"a long new password"}}).want(t, http.StatusNotFound, "expired")
	}
	if n := s.web.bcrypts.Load() - before; n != 0 {
		t.Fatalf("unknown reset tokens ran bcrypt %d times", n)
	}

	other := s.client()
	other.xff = "192.0.2.2"
	loginFails(t, other, "a@example.test", 20)
	if n := s.web.bcrypts.Load() - before; n != 3 {
		t.Fatalf("20 log-ins with a burst of 3 ran bcrypt %d times", n)
	}

	before = s.web.bcrypts.Load()
	seen := map[int]int{}
	for range 10 {
		seen[c.post("/manage/account/delete", url.Values{"password": {"wrong password"}}).StatusCode]++
	}
	if seen[http.StatusTooManyRequests] == 0 || s.web.bcrypts.Load()-before > 3 {
		t.Fatalf("account deletion: %v, %d bcrypts", seen, s.web.bcrypts.Load()-before)
	}
	if _, err := s.st.UserByEmail(context.Background(), "a@example.test"); err != nil {
		t.Fatalf("account gone: %v", err)
	}
}

// TestResetVoidsEveryResetLink: using one reset link voids the others.
func TestResetVoidsEveryResetLink(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, _ := s.signUp("r@example.test")
	c.post("/reset", url.Values{"email": {"r@example.test"}}).want(t, http.StatusOK)
	first := s.mailLink("r@example.test", "Reset")
	c.post("/reset", url.Values{"email": {"r@example.test"}}).want(t, http.StatusOK)
	second := s.mailLink("r@example.test", "Reset")
	c.post(second, url.Values{"password": {"a brand new password"}}).want(t, http.StatusSeeOther)
	c.post(first, url.Values{"password": {"the attacker's choice"}}).want(t, http.StatusNotFound)
}

// TestScoreLogCellsAreInert: text a monitor supplies cannot become a
// spreadsheet formula in /scores/IP/log.
func TestScoreLogCellsAreInert(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	srv, mid := seedServer(t, s.st, 0, "192.0.2.10", 3)
	ctx := context.Background()
	for i, e := range []string{"=HYPERLINK(\"http://evil.test\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "plain error"} {
		err := s.st.AddLogScore(ctx, store.LogScore{ServerID: srv.ID, MonitorID: mid, Time: time.Now().Add(time.Duration(i) * time.Second), Step: -5, Error: e})
		if err != nil {
			t.Fatal(err)
		}
	}
	recs, err := csv.NewReader(strings.NewReader(s.client().get("/scores/192.0.2.10/log?monitor=*&limit=50").body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, rec := range recs[1:] {
		e := rec[9]
		if e == "" {
			continue
		}
		seen++
		if strings.ContainsAny(e[:1], "=+-@\t\r") {
			t.Errorf("error cell %q starts a formula", e)
		}
	}
	if seen < 6 {
		t.Fatalf("only %d error cells in the log", seen)
	}
}

// TestInvitationsRevocableAndGoneWithTheirInviter: a user of the account
// revokes a pending invitation; another account cannot; removing the
// inviter removes theirs.
func TestInvitationsRevocableAndGoneWithTheirInviter(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	ctx := context.Background()
	c, u := s.signUp("owner@example.test")
	invite := func(c *client, email string) string {
		c.post("/manage/account/invite", url.Values{"email": {email}}).want(t, http.StatusSeeOther)
		return s.mailLink(email, "Invitation")
	}
	link := invite(c, "one@example.test")
	c.get("/manage/account").want(t, http.StatusOK, "one@example.test", "Revoke")
	// Another account's user cannot revoke it.
	other, _ := s.signUp("other@example.test")
	other.post("/manage/account/invitations/cancel", url.Values{"email": {"one@example.test"}}).want(t, http.StatusNotFound)
	s.client().get(link).want(t, http.StatusOK)
	c.post("/manage/account/invitations/cancel", url.Values{"email": {"one@example.test"}}).want(t, http.StatusSeeOther)
	s.client().get(link).want(t, http.StatusNotFound)

	// A second user invites someone, then is removed: the invitation goes.
	link = invite(c, "helper@example.test")
	h := s.client()
	h.post(link, url.Values{"password": {"helper password"}}).want(t, http.StatusSeeOther)
	h.post("/login", url.Values{"email": {"helper@example.test"}, "password": {"helper password"}}).want(t, http.StatusSeeOther)
	link = invite(h, "late@example.test")
	helper, err := s.st.UserByEmail(ctx, "helper@example.test")
	if err != nil {
		t.Fatal(err)
	}
	c.post("/manage/account/users/"+strconvI(helper.ID)+"/remove", nil).want(t, http.StatusSeeOther)
	s.client().get(link).want(t, http.StatusNotFound)
	if ins, _ := s.st.InvitationsByAccount(ctx, u.AccountID, time.Now()); len(ins) != 0 {
		t.Errorf("invitations left: %+v", ins)
	}
}

// TestFloodOfTargetsKeepsClientLimits: many new addresses mailed (or
// accounts guessed) fill only their own table; the clients' buckets stay.
func TestFloodOfTargetsKeepsClientLimits(t *testing.T) {
	t.Parallel()
	l := newLimiter(100)
	r := rule{rate.Every(time.Hour), 1000}
	client := limit{tableClients, rule{rate.Every(time.Hour), 1000}, keyOf("client", "attacker")}
	for i := range 999 {
		if !l.allow(now0, client, limit{tableTargets, r, keyOf("email", fmt.Sprint(i))}) {
			t.Fatalf("request %d refused", i)
		}
	}
	l.allow(now0, client)
	if l.allow(now0, client) {
		t.Error("the client's bucket was dropped by the flood of targets")
	}
}

// TestLargeScoreRequestsAreLimited: score data beyond 100 rows is limited
// per client; small requests are not.
func TestLargeScoreRequestsAreLimited(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *Config) { c.ScoreDataRate, c.ScoreDataBurst = rate.Every(time.Hour), 2 })
	seedServer(t, s.st, 0, "192.0.2.10", 3)
	c := s.client()
	for _, p := range []string{"/scores/192.0.2.10/log?limit=10000", "/scores/192.0.2.10/json?limit=5000&monitor=*"} {
		c.get(p).want(t, http.StatusOK)
	}
	c.get("/scores/192.0.2.10/log?monitor=*&limit=10000").want(t, http.StatusTooManyRequests)
	for range 5 {
		c.get("/scores/192.0.2.10/log?limit=100").want(t, http.StatusOK)
		c.get("/scores/192.0.2.10/json").want(t, http.StatusOK)
	}
}

// TestRightPasswordsAreNotCountedAsGuesses: logging in many times to one
// account from one client only pays the client's bucket.
func TestRightPasswordsAreNotCountedAsGuesses(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *Config) { c.AccountClientBurst, c.AccountBurst = 2, 2 })
	c, _ := s.signUp("often@example.test")
	for range 6 {
		c.post("/logout", nil)
		c.post("/login", url.Values{"email": {"often@example.test"}, "password": {"correct horse battery"}}).want(t, http.StatusSeeOther)
	}
}
