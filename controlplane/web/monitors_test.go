package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// A volunteer registers a dual-stack monitor; it waits, pending, until a
// monitor admin approves it; the token is shown once and can be rotated by
// its owner only; every staff action lands in the audit log.
func TestMonitorRegistrationAndApproval(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	ctx := context.Background()
	vol, vu := s.signUp("volunteer@example.test")
	vol.get("/manage/monitors").want(t, http.StatusOK, "You have no monitors yet", "Register a monitor")
	vol.post("/manage/monitors", url.Values{"name": {"ber1"}}).want(t, http.StatusUnprocessableEntity, `id="ip4-err"`, "at least one address")
	vol.post("/manage/monitors", url.Values{"name": {"ber1"}, "ip4": {"2001:db8::5"}, "ip6": {"192.0.2.5"}}).
		want(t, http.StatusUnprocessableEntity, `id="ip4-err"`, `id="ip6-err"`)
	r := vol.post("/manage/monitors", url.Values{"name": {"ber1"}, "location": {"Berlin, DE"}, "ip4": {"192.0.2.5"}, "ip6": {"2001:db8::5"}})
	r.want(t, http.StatusOK, "only once", `id="token"`)
	tok := between(r.body, `<pre class="token" id="token">`, `</pre>`)
	m, err := s.st.MonitorByTokenHash(ctx, store.HashToken(tok))
	if err != nil || m.State != store.MonitorPending || m.AccountID != vu.AccountID || !m.V4 || !m.V6 ||
		m.IP4.String() != "192.0.2.5" || m.IP6.String() != "2001:db8::5" {
		t.Fatalf("registered monitor %+v %v", m, err)
	}
	vol.get("/manage/monitors").want(t, http.StatusOK, "ber1", "192.0.2.5", "2001:db8::5", "pending")
	vol.post("/manage/monitors", url.Values{"name": {"ber1"}, "ip4": {"192.0.2.6"}}).want(t, http.StatusUnprocessableEntity, "taken")

	// Only the owner rotates the token; the old one stops working.
	other, _ := s.signUp("other@example.test")
	other.post("/manage/monitors/"+strconvI(m.ID)+"/token", nil).want(t, http.StatusNotFound)
	r = vol.post("/manage/monitors/"+strconvI(m.ID)+"/token", nil)
	tok2 := between(r.body, `<pre class="token" id="token">`, `</pre>`)
	if _, err := s.st.MonitorByTokenHash(ctx, store.HashToken(tok)); err == nil || tok2 == "" {
		t.Fatal("the old token still works after rotation")
	}
	if got, err := s.st.MonitorByTokenHash(ctx, store.HashToken(tok2)); err != nil || got.ID != m.ID {
		t.Fatalf("new token: %+v %v", got, err)
	}

	// Approval is for monitor admins: the volunteer and a support user
	// cannot; a monitor admin moves it pending -> testing -> active.
	vol.post("/admin/monitors/"+strconvI(m.ID)+"/state", url.Values{"state": {"active"}}).want(t, http.StatusForbidden)
	sup, su := s.signUp("support@example.test")
	madm, mu := s.signUp("monadmin@example.test")
	for id, role := range map[int64]string{su.ID: store.RoleSupport, mu.ID: store.RoleMonitorAdmin} {
		if err := s.st.SetUserRole(ctx, id, role, true); err != nil {
			t.Fatal(err)
		}
	}
	sup.get("/admin/monitors").want(t, http.StatusForbidden)
	sup.post("/admin/monitors/"+strconvI(m.ID)+"/state", url.Values{"state": {"active"}}).want(t, http.StatusForbidden)
	madm.get("/admin/monitors").want(t, http.StatusOK, "ber1", "192.0.2.5", "2001:db8::5", "pending", "never seen")
	madm.get("/admin/servers").want(t, http.StatusForbidden)
	for _, st := range []string{store.MonitorTesting, store.MonitorActive} {
		if r := madm.post("/admin/monitors/"+strconvI(m.ID)+"/state", url.Values{"state": {st}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("set %s: %d", st, r.StatusCode)
		}
	}
	if got, _ := s.st.Monitor(ctx, m.ID); got.State != store.MonitorActive {
		t.Fatalf("state after approval %q", got.State)
	}
	madm.post("/admin/monitors/"+strconvI(m.ID)+"/nat", url.Values{"behind_nat": {"on"}})
	if got, _ := s.st.Monitor(ctx, m.ID); !got.BehindNAT {
		t.Error("behind NAT not saved")
	}
	vol.get("/manage/monitors").want(t, http.StatusOK, "active")

	// Its day of health (the pairs' record) on the admin page.
	sid, err := s.st.CreateServer(ctx, store.Server{IP: mustAddr("192.0.2.80"), Netspeed: 1000, InPool: true})
	if err != nil {
		t.Fatal(err)
	}
	s.st.AddMonitorServer(ctx, m.ID, sid, store.PairActive, time.Now())
	rtt := 0.02
	for _, step := range []float64{0.75, 0.25} {
		if err := s.st.RecordProbes(ctx, []store.ProbeUpdate{{MonitorID: m.ID, ServerID: sid, Step: step, Time: time.Now(), RTT: &rtt}}, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	madm.get("/admin/monitors").want(t, http.StatusOK, `<td class="num">2</td><td class="num">0.50</td><td class="num">20.0 ms</td>`)
	madm.get("/admin/audit").want(t, http.StatusOK, "monadmin@example.test", "monitor.state", "pending -&gt; testing", "testing -&gt; active", "monitor.nat")
}

// Support takes a server out of the pool and edits its zone; the audit log
// says who did it; only admins grant roles.
func TestSupportActionsAndRoles(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	ctx := context.Background()
	owner, ou := s.signUp("owner@example.test")
	owner.post("/manage/servers", url.Values{"ip": {"127.0.0.2"}})
	srvs, err := s.st.ServersByAccount(ctx, ou.AccountID)
	if err != nil || len(srvs) != 1 || !srvs[0].InPool {
		t.Fatalf("servers %+v %v", srvs, err)
	}
	id := strconvI(srvs[0].ID)
	owner.post("/admin/servers/"+id+"/pool", url.Values{"in_pool": {"0"}}).want(t, http.StatusForbidden)

	admin := s.admin("root@example.test")
	sup, su := s.signUp("support@example.test")
	sup.get("/admin/servers").want(t, http.StatusForbidden)
	admin.get("/admin/users").want(t, http.StatusOK, "Grant support")
	if r := admin.post("/admin/users/"+strconvI(su.ID)+"/role", url.Values{"role": {store.RoleSupport}, "grant": {"1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("grant: %d %s", r.StatusCode, r.body)
	}
	sup.post("/admin/users/"+strconvI(su.ID)+"/role", url.Values{"role": {store.RoleAdmin}, "grant": {"1"}}).want(t, http.StatusForbidden)
	admin.post("/admin/users/"+strconvI(su.ID)+"/role", url.Values{"role": {"god"}, "grant": {"1"}}).want(t, http.StatusBadRequest)

	sup.get("/admin/servers?q=127.0.0.2").want(t, http.StatusOK, "127.0.0.2", "Take out of the pool")
	before := s.changes.Load()
	if r := sup.post("/admin/servers/"+id+"/pool", url.Values{"in_pool": {"0"}, "reason": {"abuse report 42"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("take out: %d %s", r.StatusCode, r.body)
	}
	if got, _ := s.st.Server(ctx, srvs[0].ID); got.InPool {
		t.Error("server still in the pool")
	}
	if s.changes.Load() == before {
		t.Error("taking a server out did not tell the publisher")
	}
	sup.get("/admin/servers?q=127.0.0.2").want(t, http.StatusOK, "Put back in the pool")
	sup.post("/admin/servers/"+id+"/zone", url.Values{"country": {"zz9"}}).want(t, http.StatusUnprocessableEntity)
	if r := sup.post("/admin/servers/"+id+"/zone", url.Values{"country": {"de"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("zone: %d %s", r.StatusCode, r.body)
	}
	if got, _ := s.st.Server(ctx, srvs[0].ID); got.CountryOverride != "de" {
		t.Errorf("country override %q", got.CountryOverride)
	}
	sup.post("/admin/servers/999/zone", url.Values{"country": {"de"}}).want(t, http.StatusNotFound)
	r := sup.get("/admin/audit")
	r.want(t, http.StatusOK, "support@example.test", "server.pool", "taken out of the pool: abuse report 42", "server.zone", "-&gt; de",
		"root@example.test", "user.role", "support granted")
	if strings.Index(r.body, "server.zone") > strings.Index(r.body, "server.pool") {
		t.Error("audit log not newest first")
	}
}
