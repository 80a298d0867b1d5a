package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/mail/mailtest"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

func TestAddServerShowsRuleErrorsBesideTheField(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, _ := s.signUp("o@example.test")
	strict := newSiteWith(t, nil, siteOptions{strict: true})
	sc, _ := strict.signUp("o@example.test")
	sc.post("/manage/servers", url.Values{"ip": {"10.0.0.1"}}).want(t, http.StatusUnprocessableEntity, `id="ip-err"`, "only public addresses")
	for _, tc := range []struct{ ip, country, field, msg string }{
		{"bogus", "", "ip-err", "is not an IPv4 or IPv6 address"},
		{"", "", "ip-err", "Enter the server"},
		{"127.0.0.7", "xx", "country-err", "Choose a country"},
		{silentNTP, "", "ip-err", "did not answer an NTP query"},
		{stratumNTP, "", "ip-err", "stratum 9"},
		{"127.0.0.99", "", "ip-err", "did not answer an NTP query"},
	} {
		r := c.post("/manage/servers", url.Values{"ip": {tc.ip}, "country": {tc.country}})
		r.want(t, http.StatusUnprocessableEntity, `id="`+tc.field+`"`, tc.msg)
		if tc.ip != "" && !strings.Contains(r.body, `value="`+tc.ip+`"`) {
			t.Errorf("form lost the address %q", tc.ip)
		}
	}
	r := c.post("/manage/servers", url.Values{"ip": {"127.0.0.7"}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "?done=added") {
		t.Fatalf("add: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	c.get(r.Header.Get("Location")).want(t, http.StatusOK, "The server was added", "127.0.0.7")
	c.post("/manage/servers", url.Values{"ip": {"127.0.0.7"}}).want(t, http.StatusUnprocessableEntity, "already in the pool")
	c.get("/manage").want(t, http.StatusOK, `<a href="/manage/servers/`, "127.0.0.7", "Global")
}

func TestServerListShowsExpectedShare(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, u := s.signUp("o@example.test")
	ctx := context.Background()
	add := func(ip string, acct, speed int64, score float64) {
		id, err := s.st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr(ip), AccountID: acct, Netspeed: speed, Country: "de", InPool: true})
		if err != nil {
			t.Fatal(err)
		}
		s.st.SetServerScore(ctx, id, score, time.Now())
	}
	add("192.0.2.1", u.AccountID, 1000, 20)
	add("192.0.2.2", 0, 3000, 20)  // someone else's, same zone
	add("192.0.2.3", 0, 50000, -5) // not active: not counted
	add("2001:db8::1", 0, 1000, 20)
	r := c.get("/manage")
	// 1000 of 4000 in de, europe and the global zone (IPv4 only).
	r.want(t, http.StatusOK, `<a href="/zone/de">DE</a> 25%`, `<a href="/zone/europe">Europe</a> 25%`, "active")
}

func TestAccountCannotSeeOrChangeAnothersServer(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	owner, _ := s.signUp("owner@example.test")
	other, _ := s.signUp("other@example.test")
	r := owner.post("/manage/servers", url.Values{"ip": {"127.0.0.5"}})
	path := strings.TrimSuffix(r.Header.Get("Location"), "?done=added")
	id := strings.TrimPrefix(path, "/manage/servers/")
	owner.get(path).want(t, http.StatusOK)
	other.get(path).want(t, http.StatusNotFound)
	other.get("/manage").want(t, http.StatusOK, "You have no servers yet")
	for _, a := range []struct{ path, form string }{
		{"/netspeed", "netspeed=0"}, {"/country", "country=fr"}, {"/delete", "days=3"}, {"/undelete", ""},
	} {
		other.post(path+a.path, mustQuery(a.form)).want(t, http.StatusNotFound)
	}
	srv, err := s.st.ServerByIP(context.Background(), netip.MustParseAddr("127.0.0.5"))
	if err != nil || srv.Netspeed != 10000 || srv.CountryOverride != "" || !srv.DeletionOn.IsZero() {
		t.Fatalf("another account changed the server: %+v %v", srv, err)
	}
	other.get("/manage/servers/"+id+"x").want(t, http.StatusNotFound)
}

func mustQuery(s string) url.Values {
	v, _ := url.ParseQuery(s)
	return v
}

func TestChangeNetspeedCountryAndDeletion(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, _ := s.signUp("o@example.test")
	r := c.post("/manage/servers", url.Values{"ip": {"127.0.0.6"}})
	path := strings.TrimSuffix(r.Header.Get("Location"), "?done=added")
	get := func() store.Server {
		srv, err := s.st.ServerByIP(context.Background(), netip.MustParseAddr("127.0.0.6"))
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	c.get(path).want(t, http.StatusOK, `<option value="10000" selected>10 Mbit/s</option>`)
	if r := c.post(path+"/netspeed", url.Values{"netspeed": {"10000"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the unchanged net speed: %d", r.StatusCode)
	}
	c.post(path+"/netspeed", url.Values{"netspeed": {"12345"}}).want(t, http.StatusUnprocessableEntity, `id="ns-err"`, "not one of the offered")
	// Unverified: it can only go down.
	c.post(path+"/netspeed", url.Values{"netspeed": {"250000"}}).want(t, http.StatusUnprocessableEntity, `id="ns-err"`, "can only be lowered")
	verifyServer(t, s, c, path, "127.0.0.6")
	if r := c.post(path+"/netspeed", url.Values{"netspeed": {"250000"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("netspeed %d", r.StatusCode)
	}
	c.post(path+"/country", url.Values{"country": {"zz"}}).want(t, http.StatusUnprocessableEntity, `id="cc-err"`)
	c.post(path+"/country", url.Values{"country": {"FR"}})
	c.post(path+"/delete", url.Values{"days": {"2"}}).want(t, http.StatusUnprocessableEntity, `id="del-err"`)
	c.post(path+"/delete", url.Values{"days": {"10"}})
	srv := get()
	want := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 10)
	if srv.Netspeed != 250000 || srv.CountryOverride != "fr" || !srv.DeletionOn.Equal(want) {
		t.Fatalf("server %+v, want deletion on %v", srv, want)
	}
	c.get(path).want(t, http.StatusOK, "will be deleted on", "Cancel the deletion", "250 Mbit/s")
	c.get("/manage").want(t, http.StatusOK, "deletion on", `<a href="/zone/fr">FR</a>`)
	c.post(path+"/undelete", nil)
	if !get().DeletionOn.IsZero() {
		t.Fatal("undo did not cancel the deletion")
	}
}

func TestInviteAndRemoveUser(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, u := s.signUp("owner@example.test")
	c.post("/manage/account/invite", url.Values{"email": {"bad"}}).want(t, http.StatusUnprocessableEntity, `id="email-err"`)
	// An address with an account gets the same answer (and a note, no link).
	c.post("/manage/account/invite", url.Values{"email": {"owner@example.test"}}).want(t, http.StatusSeeOther)
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if m, ok := s.smtp.WaitFor(wctx, func(m mailtest.Message) bool { return m.To[0] == "owner@example.test" }); !ok || strings.Contains(m.Body, "/invite/") {
		t.Fatalf("note to an address with an account: %v\n%s", ok, m.Body)
	}
	if r := c.post("/manage/account/invite", url.Values{"email": {"friend@example.test"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: %d", r.StatusCode)
	}
	link := s.mailLink("friend@example.test", "Invitation")
	c.get("/manage/account").want(t, http.StatusOK, "friend@example.test")
	f := s.client()
	f.get(link).want(t, http.StatusOK, "friend@example.test")
	f.post(link, url.Values{"password": {"tiny"}}).want(t, http.StatusUnprocessableEntity)
	if r := f.post(link, url.Values{"password": {"friendly password"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", r.StatusCode, r.body)
	}
	f.get(link).want(t, http.StatusNotFound)
	if r := f.post("/login", url.Values{"email": {"friend@example.test"}, "password": {"friendly password"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("friend log-in: %d", r.StatusCode)
	}
	friend, err := s.st.UserByEmail(context.Background(), "friend@example.test")
	if err != nil || friend.AccountID != u.AccountID {
		t.Fatalf("friend %+v %v", friend, err)
	}
	// Both see the account's servers.
	c.post("/manage/servers", url.Values{"ip": {"127.0.0.8"}})
	f.get("/manage").want(t, http.StatusOK, "127.0.0.8")
	// Nobody removes themselves; a user of another account cannot be removed.
	f.post("/manage/account/users/"+strconvI(friend.ID)+"/remove", nil).want(t, http.StatusBadRequest)
	_, stranger := s.signUp("stranger@example.test")
	c.post("/manage/account/users/"+strconvI(stranger.ID)+"/remove", nil).want(t, http.StatusNotFound)
	if r := c.post("/manage/account/users/"+strconvI(friend.ID)+"/remove", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.StatusCode)
	}
	if r := f.get("/manage"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("removed user still logged in: %d", r.StatusCode)
	}
}

func TestDownloadAndDeleteAccount(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, u := s.signUp("me@example.test")
	c.post("/manage/servers", url.Values{"ip": {"127.0.0.9"}})
	holder, _ := s.signUp("holder@example.test")
	holder.post("/manage/servers", url.Values{"ip": {"127.0.0.8"}})
	c.post("/manage/servers", url.Values{"ip": {"127.0.0.8"}}) // a claim
	r := c.get("/manage/account/download")
	r.want(t, http.StatusOK, "127.0.0.9", "me@example.test", `"claims": [`, `"ip": "127.0.0.8"`)
	if !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Error("download is not an attachment")
	}
	if strings.Contains(r.body, "$2a$") || strings.Contains(strings.ToLower(r.body), "password") {
		t.Error("download holds the password hash")
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	c.post("/manage/account/delete", url.Values{"password": {"wrong password"}}).want(t, http.StatusUnprocessableEntity, `id="delpw-err"`)
	c.post("/manage/account/delete", url.Values{"password": {"correct horse battery"}}).want(t, http.StatusOK, "Account deleted")
	if _, err := s.st.User(context.Background(), u.ID); err == nil {
		t.Error("user survived account deletion")
	}
	if _, err := s.st.ServerByIP(context.Background(), netip.MustParseAddr("127.0.0.9")); err == nil {
		t.Error("server still live after account deletion")
	}
	if cl, _ := s.st.AccountClaims(context.Background(), u.AccountID); len(cl) != 0 {
		t.Errorf("claims survive account deletion: %+v", cl)
	}
	// The history page still answers for the deleted server.
	s.client().get("/scores/127.0.0.9").want(t, http.StatusOK, "deleted")
}

func TestVendorZoneRequestAndApproval(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	c, _ := s.signUp("vendor@example.test")
	r := c.post("/manage/vendors", url.Values{"name": {"de"}, "description": {"short"}, "expected_clients": {"x"}, "client_type": {"weird"}})
	r.want(t, http.StatusUnprocessableEntity, `id="name-err"`, `id="desc-err"`, `id="ec-err"`, "Choose the kind of client")
	form := url.Values{"name": {"acme-clock"}, "description": {"Clocks for kitchens, about one query a day."}, "expected_clients": {"50000"}, "client_type": {"ntp"}}
	if r := c.post("/manage/vendors", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("request: %d %s", r.StatusCode, r.body)
	}
	c.get("/manage/vendors").want(t, http.StatusOK, "acme-clock", "requested", "0.acme-clock.pool.ntp.test")
	c.post("/manage/vendors", form).want(t, http.StatusUnprocessableEntity, "taken")
	// Only admins approve.
	c.post("/admin/vendors/acme-clock/status", url.Values{"status": {"approved"}}).want(t, http.StatusForbidden)
	admin := s.admin("root@example.test")
	admin.get("/admin/vendors").want(t, http.StatusOK, "acme-clock", "Approve")
	admin.post("/admin/vendors/acme-clock/status", url.Values{"status": {"bogus"}}).want(t, http.StatusBadRequest)
	admin.post("/admin/vendors/nosuch/status", url.Values{"status": {"approved"}}).want(t, http.StatusNotFound)
	if r := admin.post("/admin/vendors/acme-clock/status", url.Values{"status": {"approved"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", r.StatusCode)
	}
	vz, err := s.st.VendorZoneByName(context.Background(), "acme-clock")
	if err != nil || vz.Status != store.VendorApproved || vz.ApprovedAt.IsZero() {
		t.Fatalf("vendor zone %+v %v", vz, err)
	}
	if s.changes.Load() == 0 {
		t.Error("approval did not tell the publisher")
	}
}

func TestAdminPages(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	user, _ := s.signUp("user@example.test")
	for _, p := range []string{"/admin", "/admin/monitors", "/admin/users", "/admin/servers", "/admin/vendors"} {
		user.get(p).want(t, http.StatusForbidden)
	}
	user.post("/admin/monitors", url.Values{"name": {"x"}}).want(t, http.StatusForbidden)
	admin := s.admin("root@example.test")
	user.post("/manage/servers", url.Values{"ip": {"127.0.0.2"}})
	admin.get("/admin/users").want(t, http.StatusOK, "user@example.test", "root@example.test")
	admin.get("/admin/servers?q=127.0.0").want(t, http.StatusOK, "127.0.0.2")
	admin.post("/admin/monitors", url.Values{"name": {"has space"}}).want(t, http.StatusUnprocessableEntity, `id="name-err"`)
	r := admin.post("/admin/monitors", url.Values{"name": {"fra1"}, "location": {"Frankfurt"}, "ip4": {"192.0.2.1"}})
	r.want(t, http.StatusOK, "only once", `id="token"`)
	tok := between(r.body, `<pre class="token" id="token">`, `</pre>`)
	m, err := s.st.MonitorByTokenHash(context.Background(), store.HashToken(tok))
	if err != nil || m.Name != "fra1" || m.State != store.MonitorTesting {
		t.Fatalf("monitor by shown token: %+v %v", m, err)
	}
	admin.get("/admin/monitors").want(t, http.StatusOK, "fra1", "Frankfurt", "never seen")
	admin.post("/admin/monitors", url.Values{"name": {"fra1"}, "ip6": {"2001:db8::1"}}).want(t, http.StatusUnprocessableEntity, "taken")
	r = admin.post("/admin/monitors/"+strconvI(m.ID)+"/token", nil)
	tok2 := between(r.body, `<pre class="token" id="token">`, `</pre>`)
	if _, err := s.st.MonitorByTokenHash(context.Background(), store.HashToken(tok)); err == nil || tok2 == "" {
		t.Error("the old token still works after a new one was issued")
	}
	admin.post("/admin/monitors/"+strconvI(m.ID)+"/state", url.Values{"state": {"active"}})
	admin.post("/admin/monitors/"+strconvI(m.ID)+"/state", url.Values{"state": {"bogus"}}).want(t, http.StatusBadRequest)
	admin.post("/admin/monitors/999/state", url.Values{"state": {"active"}}).want(t, http.StatusNotFound)
	if m, _ := s.st.Monitor(context.Background(), m.ID); m.State != store.MonitorActive {
		t.Errorf("monitor state %q", m.State)
	}
}

func between(s, a, b string) string {
	_, rest, ok := strings.Cut(s, a)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, b)
	return v
}
