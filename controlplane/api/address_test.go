package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// addMonitor creates an active monitor with token "tok-"+name.
func (f *fixture) addMonitor(t *testing.T, m store.Monitor) store.Monitor {
	t.Helper()
	ctx := context.Background()
	m.TokenHash, m.State = store.HashToken("tok-"+m.Name), store.MonitorActive
	id, err := f.st.CreateMonitor(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	m, _ = f.st.Monitor(ctx, id)
	return m
}

// A monitor calls from one of its registered addresses (the test client
// calls from 127.0.0.1), unless it is behind NAT or the server accepts any.
func TestUnregisteredAddressIsRefused(t *testing.T) {
	f := newFixture(t, 1, nil)
	f.addMonitor(t, store.Monitor{Name: "far", IP4: netip.MustParseAddr("192.0.2.9"), IP6: netip.MustParseAddr("2001:db8::9")})
	f.addMonitor(t, store.Monitor{Name: "here", IP4: netip.MustParseAddr("127.0.0.1"), IP6: netip.MustParseAddr("2001:db8::9")})
	f.addMonitor(t, store.Monitor{Name: "nat", IP4: netip.MustParseAddr("192.0.2.10"), BehindNAT: true})
	for _, path := range []string{monitorapi.PathConfig, monitorapi.PathWork, monitorapi.PathResults} {
		method := "POST"
		if path == monitorapi.PathConfig {
			method = "GET"
		}
		code, body := f.do(t, method, path, "tok-far", monitorapi.Results{BatchID: "x"})
		if code != 403 || !strings.Contains(string(body), "127.0.0.1") || !strings.Contains(string(body), "not from an address it registered") {
			t.Errorf("%s from an unregistered address: %d %s", path, code, body)
		}
	}
	if m, _ := f.st.MonitorByName(context.Background(), "far"); !m.LastSeen.IsZero() {
		t.Error("a refused call set last_seen")
	}
	for _, name := range []string{"here", "nat", "a"} { // "a" has no address: nothing to check against
		if code, body := f.do(t, "GET", monitorapi.PathConfig, "tok-"+name, nil); code != 200 {
			t.Errorf("monitor %s: %d %s", name, code, body)
		}
	}

	anyAddr := newFixture(t, 1, func(c *Config) { c.AnyAddress = true })
	anyAddr.addMonitor(t, store.Monitor{Name: "far", IP4: netip.MustParseAddr("192.0.2.9")})
	if code, body := anyAddr.do(t, "GET", monitorapi.PathConfig, "tok-far", nil); code != 200 {
		t.Errorf("with AnyAddress: %d %s", code, body)
	}
}

// Every authenticated call, not only a submitted batch, sets last_seen and
// the address seen.
func TestEveryCallSetsLastSeen(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, 1, func(c *Config) { c.Now = func() time.Time { return now } })
	ctx := context.Background()
	for i, call := range []func(){
		func() { f.do(t, "GET", monitorapi.PathConfig, "tok-a", nil) },
		func() { f.work(t, "tok-b") },
	} {
		name := []string{"a", "b"}[i]
		if m, _ := f.st.MonitorByName(ctx, name); !m.LastSeen.IsZero() {
			t.Fatalf("monitor %s seen before any call", name)
		}
		call()
		m, _ := f.st.MonitorByName(ctx, name)
		if !m.LastSeen.Equal(now) || m.SeenIP != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("monitor %s after a call: last seen %v from %v", name, m.LastSeen, m.SeenIP)
		}
	}
	// A results call is recorded in its batch's group transaction, also
	// when the group refuses the batch (older than the last), and a batch
	// refused before it reaches a group on its own.
	later := now.Add(time.Minute)
	now = later
	a := f.mons["a"]
	if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", f.job(a, "0002", now.Add(-time.Second), f.servers).res); code != http.StatusOK {
		t.Errorf("batch: %d %s", code, body)
	}
	now = later.Add(time.Minute)
	if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", f.job(a, "0001", now.Add(-time.Second), f.servers).res); code != http.StatusConflict {
		t.Errorf("older batch: %d %s", code, body)
	}
	if m, _ := f.st.MonitorByName(ctx, "a"); !m.LastSeen.Equal(now) {
		t.Errorf("after a batch refused in its group: last seen %v, want %v", m.LastSeen, now)
	}
	later = now
	now = later.Add(time.Minute)
	if code, _ := f.do(t, "POST", monitorapi.PathResults, "tok-b", []byte("{")); code != http.StatusBadRequest {
		t.Errorf("malformed batch: %d", code)
	}
	if m, _ := f.st.MonitorByName(ctx, "b"); !m.LastSeen.Equal(now) {
		t.Errorf("after a refused batch: last seen %v, want %v", m.LastSeen, now)
	}
	// last_seen never moves back.
	if err := f.st.TouchMonitor(ctx, f.mons["a"].ID, netip.MustParseAddr("127.0.0.1"), later.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.st.MonitorByName(ctx, "a"); !m.LastSeen.Equal(later) {
		t.Errorf("last seen moved back to %v", m.LastSeen)
	}
}

// The config carries the central settings, the monitor's families and
// addresses, and the scoring options.
func TestConfigCarriesCentralSettings(t *testing.T) {
	f := newFixture(t, 1, func(c *Config) {
		c.BaseServers = []string{"192.0.2.1:123", "192.0.2.2:123"}
		c.Samples, c.Spacing, c.Timeout = 5, time.Second, 4*time.Second
		c.Score.RampWidth = 5
	})
	f.addMonitor(t, store.Monitor{Name: "dual", IP4: netip.MustParseAddr("127.0.0.1"), IP6: netip.MustParseAddr("::1")})
	code, body := f.do(t, "GET", monitorapi.PathConfig, "tok-dual", nil)
	var c monitorapi.Config
	if err := json.Unmarshal(body, &c); code != 200 || err != nil {
		t.Fatalf("config: %d %s %v", code, body, err)
	}
	if c.Samples != 5 || c.Spacing.D() != time.Second || c.Timeout.D() != 4*time.Second || len(c.BaseServers) != 2 ||
		!c.IPv4 || !c.IPv6 || c.IP4 != netip.MustParseAddr("127.0.0.1") || c.IP6 != netip.MustParseAddr("::1") ||
		c.Score.RampWidth != 5 || !c.Score.LeapUnsyncIsError {
		t.Errorf("config %+v", c)
	}
	d := monitorapi.DefaultProbe()
	code, body = f.do(t, "GET", monitorapi.PathConfig, "tok-a", nil)
	c = monitorapi.Config{}
	json.Unmarshal(body, &c)
	if code != 200 || c.Samples != 5 || c.BaseMaxOffset.D() != d.BaseMaxOffset || c.IdlePoll.D() != d.IdlePoll || !c.IPv4 || c.IPv6 || c.IP4.IsValid() {
		t.Errorf("config of a v4 monitor without addresses: %d %+v", code, c)
	}
}

// A monitor is handed only servers of the families it watches, even when
// a pair of another family is left over.
func TestWorkOnlyForWatchedFamilies(t *testing.T) {
	f := newFixture(t, 1, nil)
	ctx := context.Background()
	v6, err := f.st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr("::2"), Netspeed: 1000, InPool: true})
	if err != nil {
		t.Fatal(err)
	}
	only6 := f.addMonitor(t, store.Monitor{Name: "six", IP6: netip.MustParseAddr("::1"), BehindNAT: true})
	dual := f.addMonitor(t, store.Monitor{Name: "dual", IP4: netip.MustParseAddr("127.0.0.1"), IP6: netip.MustParseAddr("::1")})
	for _, m := range []store.Monitor{only6, dual} {
		for _, s := range []int64{f.servers[0].ID, v6} {
			if _, err := f.st.AddMonitorServer(ctx, m.ID, s, store.PairActive, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	ips := func(w monitorapi.Work) (out []string) {
		for _, a := range w.Servers {
			out = append(out, a.IP.String())
		}
		return out
	}
	if got := ips(f.work(t, "tok-six")); len(got) != 1 || got[0] != "::2" {
		t.Errorf("IPv6-only monitor got %v", got)
	}
	if got := ips(f.work(t, "tok-dual")); len(got) != 2 {
		t.Errorf("dual-stack monitor got %v, want both families", got)
	}
}

// Behind a trusted reverse proxy the monitor is the address the proxy
// names in X-Forwarded-For; from an untrusted peer the header is ignored.
func TestMonitorBehindTrustedProxy(t *testing.T) {
	far := netip.MustParseAddr("192.0.2.9")
	call := func(f *fixture) int {
		t.Helper()
		req, _ := http.NewRequest("GET", f.url+monitorapi.PathConfig, nil)
		req.Header.Set("Authorization", "Bearer tok-far")
		req.Header.Set("X-Forwarded-For", far.String())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	proxied := newFixture(t, 1, func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	proxied.addMonitor(t, store.Monitor{Name: "far", IP4: far})
	if code := call(proxied); code != 200 {
		t.Fatalf("through a trusted proxy: %d", code)
	}
	if m, _ := proxied.st.MonitorByName(context.Background(), "far"); m.SeenIP != far {
		t.Errorf("seen from %s, want %s", m.SeenIP, far)
	}

	direct := newFixture(t, 1, nil)
	direct.addMonitor(t, store.Monitor{Name: "far", IP4: far})
	if code := call(direct); code != 403 {
		t.Errorf("header from an untrusted peer: %d, want 403", code)
	}
	if m, _ := direct.st.MonitorByName(context.Background(), "far"); m.SeenIP.IsValid() {
		t.Errorf("refused call recorded %s", m.SeenIP)
	}
}
