package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestSignUpConfirmLogInSetsAHardenedCookie(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *Config) { c.SecureCookies = true })
	c := s.client()
	c.post("/signup", url.Values{"email": {"new@example.test"}, "password": {"correct horse battery"}}).want(t, http.StatusOK, "Check your email")
	link := s.mailLink("new@example.test", "Confirm")
	// Before confirming, log-in is refused and a new link is sent.
	c.post("/login", url.Values{"email": {"new@example.test"}, "password": {"correct horse battery"}}).want(t, http.StatusForbidden, "confirm your address")
	s.mailLink("new@example.test", "Confirm")
	c.get(link).want(t, http.StatusOK, "Address confirmed")
	c.get(link).want(t, http.StatusNotFound, "expired")

	r := c.post("/login", url.Values{"email": {"NEW@example.test"}, "password": {"correct horse battery"}, "next": {"/manage/account"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/manage/account" {
		t.Fatalf("log-in: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	cookies := r.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	ck := cookies[0]
	if ck.Name != sessionCookie || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || len(ck.Value) < 20 {
		t.Errorf("cookie %+v", ck)
	}
	// Only the hash is stored.
	var n int
	s.st.DB().QueryRow(`SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, ck.Value).Scan(&n)
	if n != 0 {
		t.Error("the session token is stored in clear")
	}
	// The jar holds a Secure cookie only for https, so send it by hand.
	req, _ := http.NewRequest(http.MethodGet, s.ts.URL+"/manage/account", nil)
	req.AddCookie(ck)
	c.do(req).want(t, http.StatusOK, "new@example.test")
}

func TestLogInRejections(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	s.signUp("a@example.test")
	c := s.client()
	c.post("/login", url.Values{"email": {"a@example.test"}, "password": {"wrong password!"}}).want(t, http.StatusUnauthorized, "wrong")
	c.post("/login", url.Values{"email": {"nobody@example.test"}, "password": {"correct horse battery"}}).want(t, http.StatusUnauthorized, "wrong")
	// An open redirect through next is refused.
	r := c.post("/login", url.Values{"email": {"a@example.test"}, "password": {"correct horse battery"}, "next": {"//evil.example/x"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/manage" {
		t.Errorf("next=//evil: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	// Browsers drop tabs and line breaks from a Location, so "/<tab>/evil"
	// is "//evil" to them.
	r = c.post("/login", url.Values{"email": {"a@example.test"}, "password": {"correct horse battery"}, "next": {"/\t/evil.example/x"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/manage" {
		t.Errorf("next=/<tab>/evil: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	for _, next := range []string{"/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\x00x", "/\\evil.example", "https://evil.example", "//evil.example"} {
		if got := localPath(next, "/manage"); got != "/manage" {
			t.Errorf("localPath(%q) = %q, want the fallback", next, got)
		}
	}
	if got := localPath("/manage/account?x=1", ""); got != "/manage/account?x=1" {
		t.Errorf("localPath of a local path = %q", got)
	}
	// Manage pages send anonymous browsers to log in.
	r = s.client().get("/manage/servers/1")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
		t.Errorf("anonymous manage page: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	s.client().post("/manage/servers", url.Values{"ip": {"192.0.2.1"}}).want(t, http.StatusUnauthorized)
}

func TestSignUpFormErrorsAndDuplicates(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c := s.client()
	r := c.post("/signup", url.Values{"email": {"not an address"}, "password": {"short"}})
	r.want(t, http.StatusUnprocessableEntity, `id="email-err"`, `id="password-err"`, "at least 10 characters", `aria-invalid="true"`)
	s.signUp("dup@example.test")
	// A second sign-up looks the same but mails the owner instead.
	c.post("/signup", url.Values{"email": {"dup@example.test"}, "password": {"another password"}}).want(t, http.StatusOK, "Check your email")
	s.mailLink("dup@example.test", "already have")
}

func TestRateLimitOnLogInSignUpAndReset(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *Config) { c.AuthRate, c.AuthBurst = rate.Every(time.Hour), 3 })
	c := s.client()
	for i := range 3 {
		c.post("/login", url.Values{"email": {"victim@example.test"}, "password": {"guess number " + strconvI(int64(i))}}).want(t, http.StatusUnauthorized)
	}
	c.post("/login", url.Values{"email": {"victim@example.test"}, "password": {"guess number 4"}}).want(t, http.StatusTooManyRequests, "Too many attempts")
	// The same client is limited on the other forms too (per address).
	c.post("/reset", url.Values{"email": {"other@example.test"}}).want(t, http.StatusTooManyRequests)
	c.post("/signup", url.Values{"email": {"third@example.test"}, "password": {"long enough pw"}}).want(t, http.StatusTooManyRequests)

}

func TestLimiterCountsPerClientAndPerAddress(t *testing.T) {
	t.Parallel()
	l := newLimiter(0)
	r := rule{rate.Every(time.Hour), 2}
	ask := func(client, email string) bool {
		return l.allow(now0, limit{tableClients, r, keyOf("client", client)}, limit{tableTargets, r, keyOf("email", email)})
	}
	if !ask("a", "x") || !ask("b", "x") {
		t.Fatal("first attempts refused")
	}
	// A third client guessing the same address is refused ...
	if ask("c", "x") {
		t.Error("per-address limit not applied")
	}
	// ... and one client spreading over addresses too.
	ask("d", "1")
	ask("d", "2")
	if ask("d", "3") {
		t.Error("per-client limit not applied")
	}
	l.prune(now0.Add(3 * time.Hour))
	if l.len() != 0 || len(l.tables[tableClients].queue)+len(l.tables[tableTargets].queue) != 0 {
		t.Errorf("prune kept %d buckets, %d queued", l.len(), len(l.tables[tableClients].queue))
	}
}

func TestCrossOriginFormsAreRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, u := s.signUp("a@example.test")
	for _, tc := range []struct{ path, form string }{
		{"/login", "email=a@example.test&password=correct+horse+battery"},
		{"/manage/servers", "ip=192.0.2.1"},
		{"/manage/account/delete", "password=correct+horse+battery"},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.ts.URL+tc.path, strings.NewReader(tc.form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		c.do(req).want(t, http.StatusForbidden, "another site")
	}
	// Nothing happened.
	if _, err := s.st.User(context.Background(), u.ID); err != nil {
		t.Fatalf("account gone after a cross-site post: %v", err)
	}
	if n, _ := s.st.CountServersByAccount(context.Background(), u.AccountID); n != 0 {
		t.Fatal("a cross-site post added a server")
	}
	// An old browser without Sec-Fetch-Site but with a foreign Origin too.
	req, _ := http.NewRequest(http.MethodPost, s.ts.URL+"/manage/servers", strings.NewReader("ip=192.0.2.1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	c.do(req).want(t, http.StatusForbidden)
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	old, _ := s.signUp("r@example.test")
	c := s.client()
	c.post("/reset", url.Values{"email": {"nobody@example.test"}}).want(t, http.StatusOK, "Check your email")
	c.post("/reset", url.Values{"email": {"r@example.test"}}).want(t, http.StatusOK, "Check your email")
	link := s.mailLink("r@example.test", "Reset")
	if len(s.smtp.Pending()) != 0 {
		t.Error("a reset for an unknown address sent mail")
	}
	c.get(link).want(t, http.StatusOK, "Choose a new password")
	c.post(link, url.Values{"password": {"short"}}).want(t, http.StatusUnprocessableEntity, "at least 10")
	r := c.post(link, url.Values{"password": {"a brand new password"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?done=reset" {
		t.Fatalf("reset: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	c.post(link, url.Values{"password": {"yet another password"}}).want(t, http.StatusNotFound)
	// The old session ended; the new password works, the old one not.
	if r := old.get("/manage"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("old session still valid: %d", r.StatusCode)
	}
	c.post("/login", url.Values{"email": {"r@example.test"}, "password": {"correct horse battery"}}).want(t, http.StatusUnauthorized)
	if r := c.post("/login", url.Values{"email": {"r@example.test"}, "password": {"a brand new password"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("new password refused: %d", r.StatusCode)
	}
}

func TestLogOutEndsTheSession(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, _ := s.signUp("o@example.test")
	c.get("/manage").want(t, http.StatusOK)
	r := c.post("/logout", nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout %d", r.StatusCode)
	}
	if r := c.get("/manage"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("still logged in: %d", r.StatusCode)
	}
}
