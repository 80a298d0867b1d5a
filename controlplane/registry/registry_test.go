package registry

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/oschwald/geoip2-golang/v2"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/ntpserver"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// ntp starts a real NTP responder on 127.0.0.<n> and returns its port.
func ntp(t *testing.T, n byte, cfg ntpserver.Config) uint16 {
	t.Helper()
	srv, err := ntpserver.Listen(netip.AddrFrom4([4]byte{127, 0, 0, n}).String()+":0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr().Port()
}

func wantField(t *testing.T, err error, field, code string) {
	t.Helper()
	fe, ok := errors.AsType[*FieldError](err)
	if !ok || fe.Field() != field || fe.Code != code || fe.Error() == "" {
		t.Fatalf("error %v, want a FieldError on %s with code %s", err, field, code)
	}
}

func speed(v int64) *int64 { return &v }

func TestRegisterRejectionsOneByOne(t *testing.T) {
	ctx := context.Background()
	// The servers on 127.0.0.21..23 share a port only by chance, so each
	// case gets a registry whose check uses its server's port.
	good := ntp(t, 21, ntpserver.Config{})
	silent := ntp(t, 22, ntpserver.Config{Silent: true})
	deep := ntp(t, 23, ntpserver.Config{Stratum: 7})
	kod := ntp(t, 24, ntpserver.Config{KissCode: "DENY"})
	st := openStore(t)
	reg := func(port uint16, private bool) *Registry {
		return New(st, Config{AllowPrivate: private, NTPPort: port, CheckTimeout: 300 * time.Millisecond})
	}
	cases := []struct {
		name        string
		r           *Registry
		in          Input
		field, code string
	}{
		{"garbage", reg(good, true), Input{Address: "not-an-ip"}, FieldAddress, CodeInvalid},
		{"zone", reg(good, true), Input{Address: "fe80::1%eth0"}, FieldAddress, CodeInvalid},
		{"private", reg(good, false), Input{Address: "10.1.2.3"}, FieldAddress, CodeNotPublic},
		{"loopback", reg(good, false), Input{Address: "127.0.0.21"}, FieldAddress, CodeNotPublic},
		{"link-local", reg(good, false), Input{Address: "169.254.1.1"}, FieldAddress, CodeNotPublic},
		{"multicast", reg(good, true), Input{Address: "224.0.0.1"}, FieldAddress, CodeNotPublic},
		{"documentation", reg(good, false), Input{Address: "192.0.2.1"}, FieldAddress, CodeNotPublic},
		{"CGNAT", reg(good, false), Input{Address: "100.64.0.1"}, FieldAddress, CodeNotPublic},
		{"ULA", reg(good, false), Input{Address: "fd00::1"}, FieldAddress, CodeNotPublic},
		{"unspecified", reg(good, true), Input{Address: "::"}, FieldAddress, CodeNotPublic},
		{"netspeed off the menu", reg(good, true), Input{Address: "127.0.0.21", Netspeed: speed(1234)}, FieldNetspeed, CodeInvalid},
		{"unknown country", reg(good, true), Input{Address: "127.0.0.21", Country: "xx"}, FieldCountry, CodeInvalid},
		{"no NTP answer", reg(silent, true), Input{Address: "127.0.0.22"}, FieldAddress, CodeNoNTP},
		{"kiss-o'-death", reg(kod, true), Input{Address: "127.0.0.24"}, FieldAddress, CodeNoNTP},
		{"stratum 7", reg(deep, true), Input{Address: "127.0.0.23"}, FieldAddress, CodeStratum},
	}
	for _, tc := range cases {
		_, err := tc.r.Register(ctx, 0, tc.in)
		t.Run(tc.name, func(t *testing.T) { wantField(t, err, tc.field, tc.code) })
	}
	if n, _ := st.Servers(ctx); len(n) != 0 {
		t.Fatalf("refusals stored %d servers", len(n))
	}

	r := reg(good, true)
	s, err := r.Register(ctx, 0, Input{Address: "127.0.0.21", Netspeed: speed(1500), Country: "DE"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Stratum != 2 || s.Netspeed != 1500 || s.Zone() != "de" || !s.InPool {
		t.Fatalf("registered %+v", s)
	}
	_, err = r.Register(ctx, 0, Input{Address: "127.0.0.21"})
	wantField(t, err, FieldAddress, CodeRegistered)

	// Scheduled for deletion: may be added again, starting over.
	if err := r.ScheduleDeletion(ctx, 0, s.ID, time.Now().Add(3*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	again, err := r.Register(ctx, 0, Input{Address: "127.0.0.21"})
	if err != nil || again.ID == s.ID || again.Score != 0 || again.Netspeed != DefaultNetspeed {
		t.Fatalf("re-register after scheduling deletion: %+v, %v", again, err)
	}
	wantField(t, r.ScheduleDeletion(ctx, 0, again.ID, time.Now()), FieldDeletion, CodeInvalid)
	wantField(t, r.SetNetspeed(ctx, 0, again.ID, 7), FieldNetspeed, CodeInvalid)
}

func TestRegisterCountryFromGeoIPAndCandidates(t *testing.T) {
	ctx := context.Background()
	geo, err := geoip2.Open("testdata/GeoLite2-Country-Test.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	defer geo.Close()
	st := openStore(t)
	st.CreateMonitor(ctx, store.Monitor{Name: "v4", TokenHash: "h4", IPVersion: 4, State: store.MonitorActive})
	st.CreateMonitor(ctx, store.Monitor{Name: "v6", TokenHash: "h6", IPVersion: 6, State: store.MonitorActive})
	var changed []int64
	r := New(st, Config{GeoIP: geo, Check: func(context.Context, netip.Addr) (int, error) { return 2, nil },
		OnChange: func(id int64) { changed = append(changed, id) }})
	s, err := r.Register(ctx, 0, Input{Address: "81.2.69.160"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Country != "gb" || s.Zone() != "gb" {
		t.Fatalf("GeoIP country %q, want gb", s.Country)
	}
	pairs, _ := st.ServerPairs(ctx, s.ID)
	if len(pairs) != 1 || pairs[0].State != store.PairCandidate {
		t.Fatalf("candidate rows %+v, want one for the IPv4 monitor", pairs)
	}
	if err := r.SetCountry(ctx, 0, s.ID, "fr"); err != nil {
		t.Fatal(err)
	}
	s, _ = st.Server(ctx, s.ID)
	if s.Zone() != "fr" || s.Country != "gb" || len(changed) != 2 {
		t.Fatalf("override: zone %q country %q changes %v", s.Zone(), s.Country, changed)
	}
}

func TestRegisterIPv6(t *testing.T) {
	ctx := context.Background()
	srv, err := ntpserver.Listen("[::1]:0", ntpserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	st := openStore(t)
	st.CreateMonitor(ctx, store.Monitor{Name: "v4", TokenHash: "h4", IPVersion: 4})
	st.CreateMonitor(ctx, store.Monitor{Name: "v6", TokenHash: "h6", IPVersion: 6})
	r := New(st, Config{AllowPrivate: true, NTPPort: srv.Addr().Port(), CheckTimeout: 300 * time.Millisecond})
	s, err := r.Register(ctx, 0, Input{Address: "::1"})
	if err != nil {
		t.Fatal(err)
	}
	pairs, _ := st.ServerPairs(ctx, s.ID)
	if !s.IP.Is6() || len(pairs) != 1 {
		t.Fatalf("IPv6 server %v with %d candidate rows, want 1 (the IPv6 monitor)", s.IP, len(pairs))
	}
	_, err = New(st, Config{}).Register(ctx, 0, Input{Address: "2001:db8::123"})
	wantField(t, err, FieldAddress, CodeNotPublic)
	_, err = New(st, Config{}).Register(ctx, 0, Input{Address: "::ffff:10.0.0.1"})
	wantField(t, err, FieldAddress, CodeNotPublic)
}

// The owner may cancel a scheduled deletion while its own re-registration
// of the address waits for its NTP check: the registration is then
// refused, and the server stays.
func TestReRegisterRefusedWhenDeletionCancelledDuringCheck(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	ip := netip.MustParseAddr("127.0.0.30")
	owner, _ := st.CreateAccount(ctx, "owner")
	id, err := st.CreateServer(ctx, store.Server{IP: ip, AccountID: owner, Netspeed: 1000, InPool: true,
		DeletionOn: time.Now().Add(5 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r := New(st, Config{AllowPrivate: true, Check: func(ctx context.Context, _ netip.Addr) (int, error) {
		// The owner cancels the deletion meanwhile.
		return 2, st.SetServerDeletion(ctx, owner, id, time.Time{})
	}})
	_, err = r.Register(ctx, owner, Input{Address: ip.String()})
	wantField(t, err, FieldAddress, CodeRegistered)
	s, err := st.ServerByIP(ctx, ip)
	if err != nil || s.ID != id || s.AccountID != owner {
		t.Fatalf("live server at %s: %+v %v, want the owner's server %d", ip, s, err, id)
	}
}

// A deletion can be cancelled or moved until its date, not after it (the server
// waits only for the next cleanup to be deleted).
func TestCancelDeletionRefusedAfterTheDate(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	owner, _ := st.CreateAccount(ctx, "owner")
	now := time.Now()
	past, err := st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr("127.0.0.31"), AccountID: owner, Netspeed: 1000,
		InPool: true, DeletionOn: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ahead, err := st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr("127.0.0.32"), AccountID: owner, Netspeed: 1000,
		InPool: true, DeletionOn: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r := New(st, Config{AllowPrivate: true, Now: func() time.Time { return now }})
	wantField(t, r.CancelDeletion(ctx, owner, past), FieldDeletion, CodeInvalid)
	wantField(t, r.ScheduleDeletion(ctx, owner, past, now.Add(10*24*time.Hour)), FieldDeletion, CodeInvalid)
	if s, _ := st.Server(ctx, past); s.DeletionOn.IsZero() {
		t.Fatal("a deletion whose date has passed was cancelled")
	}
	if err := r.CancelDeletion(ctx, owner, ahead); err != nil {
		t.Fatal(err)
	}
	if s, _ := st.Server(ctx, ahead); !s.DeletionOn.IsZero() {
		t.Fatal("a deletion ahead was not cancelled")
	}
}
