package ntppool

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
)

var testSOA = test.SOA("pool.ntp.test. 1500 IN SOA ns1.example.org. hostmaster.pool.ntp.test. 49 5400 5400 1209600 3600")

// TestDeterministicAnswers covers names whose answers hold every server of
// their set, so the records are known exactly.
func TestDeterministicAnswers(t *testing.T) {
	p := newStaticPool(t, testConfig(), testServers(), testVendors())
	cases := []test.Case{
		// A client in GB gets the single uk server: no fallback, as the pool.
		{Qname: "pool.ntp.test.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("pool.ntp.test. 150 IN A 198.51.100.10")}},
		{Qname: "uk.pool.ntp.test.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("uk.pool.ntp.test. 150 IN A 198.51.100.10")}},
		{Qname: "GB.Pool.NTP.test.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("GB.Pool.NTP.test. 150 IN A 198.51.100.10")}},
		{Qname: "fr.pool.ntp.test.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("fr.pool.ntp.test. 150 IN A 198.51.100.1"), test.A("fr.pool.ntp.test. 150 IN A 198.51.100.2")}},
		{Qname: "0.fr.pool.ntp.test.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("0.fr.pool.ntp.test. 150 IN A 198.51.100.1"), test.A("0.fr.pool.ntp.test. 150 IN A 198.51.100.2")}},
		// Only 2.X carries AAAA, with every IPv6 server of the zone.
		{Qname: "2.de.pool.ntp.test.", Qtype: dns.TypeAAAA, Answer: []dns.RR{
			test.AAAA("2.de.pool.ntp.test. 150 IN AAAA 2001:db8::1"), test.AAAA("2.de.pool.ntp.test. 150 IN AAAA 2001:db8::2")}},
		{Qname: "de.pool.ntp.test.", Qtype: dns.TypeAAAA, Ns: []dns.RR{testSOA}},
		{Qname: "1.de.pool.ntp.test.", Qtype: dns.TypeAAAA, Ns: []dns.RR{testSOA}},
		{Qname: "pool.ntp.test.", Qtype: dns.TypeAAAA, Ns: []dns.RR{testSOA}},
		// An explicit label never falls back.
		{Qname: "se.pool.ntp.test.", Qtype: dns.TypeA, Ns: []dns.RR{testSOA}},
		{Qname: "3.antarctica.pool.ntp.test.", Qtype: dns.TypeA, Ns: []dns.RR{testSOA}},
		// Apex records.
		{Qname: "pool.ntp.test.", Qtype: dns.TypeSOA, Answer: []dns.RR{testSOA}},
		{Qname: "pool.ntp.test.", Qtype: dns.TypeNS, Answer: []dns.RR{
			test.NS("pool.ntp.test. 86400 IN NS ns1.example.org."), test.NS("pool.ntp.test. 86400 IN NS ns2.example.org.")}},
		{Qname: "de.pool.ntp.test.", Qtype: dns.TypeNS, Ns: []dns.RR{testSOA}},
		{Qname: "de.pool.ntp.test.", Qtype: dns.TypeSOA, Ns: []dns.RR{testSOA}},
		{Qname: "de.pool.ntp.test.", Qtype: dns.TypeMX, Answer: []dns.RR{test.MX("de.pool.ntp.test. 150 IN MX 0 .")}},
		{Qname: "pool.ntp.test.", Qtype: dns.TypeMX, Answer: []dns.RR{test.MX("pool.ntp.test. 150 IN MX 0 .")}},
		{Qname: "pool.ntp.test.", Qtype: dns.TypeTXT, Ns: []dns.RR{testSOA}},
		{Qname: "pool.ntp.test.", Qtype: dns.TypeANY, Answer: []dns.RR{test.HINFO(`pool.ntp.test. 8482 IN HINFO "RFC8482" ""`)}},
		// Unknown names.
		{Qname: "foo.pool.ntp.test.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{testSOA}},
		{Qname: "4.pool.ntp.test.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{testSOA}},
		{Qname: "5.de.pool.ntp.test.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{testSOA}},
		{Qname: "x.0.de.pool.ntp.test.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{testSOA}},
		{Qname: "0.0.pool.ntp.test.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{testSOA}},
		{Qname: "de.de.pool.ntp.test.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{testSOA}},
		{Qname: "foo.pool.ntp.test.", Qtype: dns.TypeANY, Rcode: dns.RcodeNameError, Ns: []dns.RR{testSOA}},
		// Vendors: sntp answers on the bare name, ntp on 0..3 only, legacy both.
		{Qname: "acme.pool.ntp.test.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("acme.pool.ntp.test. 150 IN A 198.51.100.10")}},
		{Qname: "0.acme.pool.ntp.test.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{testSOA}},
		{Qname: "ntpcorp.pool.ntp.test.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{testSOA}},
		{Qname: "1.ntpcorp.pool.ntp.test.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("1.ntpcorp.pool.ntp.test. 150 IN A 198.51.100.10")}},
		{Qname: "oldco.pool.ntp.test.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("oldco.pool.ntp.test. 150 IN A 198.51.100.10")}},
		{Qname: "3.oldco.pool.ntp.test.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("3.oldco.pool.ntp.test. 150 IN A 198.51.100.10")}},
		{Qname: "oldco.pool.ntp.test.", Qtype: dns.TypeSOA, Ns: []dns.RR{testSOA}},
		{Qname: "_country.pool.ntp.test.", Qtype: dns.TypeA, Ns: []dns.RR{testSOA}},
	}
	for _, tc := range cases {
		t.Run(dns.TypeToString[tc.Qtype]+" "+tc.Qname, func(t *testing.T) {
			rec := serve(t, p, tc.Msg(), clientUK)
			if err := test.SortAndCheck(rec.Msg, tc); err != nil {
				t.Error(err)
			}
			if !rec.Msg.Authoritative {
				t.Error("reply not authoritative")
			}
		})
	}
}

func serve(t testing.TB, p *NTPPool, m *dns.Msg, client string) *dnstest.Recorder {
	t.Helper()
	rec := dnstest.NewRecorder(&test.ResponseWriter{RemoteIP: client})
	if _, err := p.ServeDNS(context.Background(), rec, m); err != nil {
		t.Fatalf("ServeDNS(%s): %v", m.Question[0].Name, err)
	}
	return rec
}

// answerIPs returns the addresses of the A/AAAA records of m.
func answerIPs(m *dns.Msg) []string {
	var ips []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			ips = append(ips, rr.A.String())
		case *dns.AAAA:
			ips = append(ips, rr.AAAA.String())
		}
	}
	return ips
}

// membersOf lists the test servers of country (all for "").
func membersOf(countries ...string) map[string]bool {
	out := map[string]bool{}
	for _, s := range testServers() {
		if slices.Contains(countries, s.Country) || slices.Contains(countries, "*") {
			out[s.IP.String()] = true
		}
	}
	return out
}

func checkFrom(t *testing.T, m *dns.Msg, want int, allowed map[string]bool) {
	t.Helper()
	ips := answerIPs(m)
	if len(ips) != want {
		t.Fatalf("got %d records %v, want %d", len(ips), ips, want)
	}
	seen := map[string]bool{}
	for _, ip := range ips {
		if !allowed[ip] {
			t.Errorf("answer %s not in the expected set", ip)
		}
		if seen[ip] {
			t.Errorf("answer %s twice", ip)
		}
		seen[ip] = true
	}
}

func ecsMsg(name string, qtype uint16, subnet string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, false)
	if subnet != "" {
		pfx := netip.MustParsePrefix(subnet)
		fam := uint16(1)
		if pfx.Addr().Is6() {
			fam = 2
		}
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{
			Code: dns.EDNS0SUBNET, Family: fam, SourceNetmask: uint8(pfx.Bits()), Address: net.IP(pfx.Addr().AsSlice()),
		})
	}
	return m
}

func replyScope(t *testing.T, m *dns.Msg) (uint8, bool) {
	t.Helper()
	// Read the reply as a client would, from the wire.
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	m = new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatal(err)
	}
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_SUBNET); ok {
				return e.SourceScope, true
			}
		}
	}
	return 0, false
}

// TestTargeting checks the country -> continent -> global fallback of the
// apex, N. and vendor names, located by source address or ECS.
func TestTargeting(t *testing.T) {
	p := newStaticPool(t, testConfig(), testServers(), testVendors())
	europe := membersOf("de", "fr", "gb")
	all := membersOf("*")
	cases := []struct {
		name, qname, client, ecs string
		qtype                    uint16
		want                     int
		allowed                  map[string]bool
		scope                    uint8
	}{
		{"se client falls to europe", "pool.ntp.test.", clientSE, "", dns.TypeA, 4, europe, 0},
		{"private client gets global", "pool.ntp.test.", "10.1.2.3", "", dns.TypeA, 4, all, 0},
		{"us client gets us", "pool.ntp.test.", clientUS, "", dns.TypeA, 4, membersOf("us"), 0},
		{"cn client has no asia servers, global", "pool.ntp.test.", clientCN, "", dns.TypeA, 4, all, 0},
		{"ecs from us through a uk resolver", "pool.ntp.test.", clientUK, "216.160.83.56/29", dns.TypeA, 4, membersOf("us"), 29},
		{"ecs scope never longer than source", "2.pool.ntp.test.", clientUK, "2001:220::/48", dns.TypeAAAA, 2, map[string]bool{"2001:db8::1": true, "2001:db8::2": true}, 48},
		{"ecs scope shorter than source", "pool.ntp.test.", clientUK, "202.196.224.0/24", dns.TypeA, 4, all, 20},
		{"ecs scope is the geoip network", "pool.ntp.test.", clientUK, "89.160.20.128/28", dns.TypeA, 4, europe, 25},
		{"ipv6 ecs from jp", "2.pool.ntp.test.", clientUK, "2001:218::/48", dns.TypeAAAA, 1, membersOf("jp"), 32},
		{"ipv6 ecs from de", "2.pool.ntp.test.", clientUK, "2a02:d180::/48", dns.TypeAAAA, 2, map[string]bool{"2001:db8::1": true, "2001:db8::2": true}, 29},
		{"private ecs uses source", "pool.ntp.test.", clientUS, "10.0.0.0/8", dns.TypeA, 4, membersOf("us"), 8},
		{"unlocatable ecs uses source", "pool.ntp.test.", clientUS, "1.1.1.0/24", dns.TypeA, 4, membersOf("us"), 8},
		{"ipv6 source from jp", "2.pool.ntp.test.", clientJP, "", dns.TypeAAAA, 1, membersOf("jp"), 0},
		{"numbered label targets too", "1.pool.ntp.test.", clientUS, "", dns.TypeA, 4, membersOf("us"), 0},
		{"vendor targets", "acme.pool.ntp.test.", clientSE, "", dns.TypeA, 4, europe, 0},
		{"explicit label ignores location", "de.pool.ntp.test.", clientUS, "216.160.83.56/29", dns.TypeA, 4, membersOf("de"), 0},
		{"numbered explicit", "2.de.pool.ntp.test.", clientUS, "", dns.TypeA, 2, membersOf("de"), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := ecsMsg(tc.qname, tc.qtype, tc.ecs)
			rec := serve(t, p, m, tc.client)
			checkFrom(t, rec.Msg, tc.want, tc.allowed)
			scope, ok := replyScope(t, rec.Msg)
			if tc.ecs != "" && (!ok || scope != tc.scope) {
				t.Errorf("ECS scope = %d (present %v), want %d", scope, ok, tc.scope)
			}
			if tc.ecs == "" && ok {
				t.Error("reply has ECS the query did not send")
			}
		})
	}
}

// TestNumberedSubsetsDisjoint: with n >= 8 servers each of 0..3 gets n/4
// servers and no server is in two of them; with fewer every label has all.
func TestNumberedSubsetsDisjoint(t *testing.T) {
	ix := buildIndex(testServers(), nil, 1, 1)
	de := ix.zones["de"]
	seen := map[string]int{}
	for i := range subsets {
		s := subsetOf(ix, de, i, fam4)
		if s.len() != 10/4 {
			t.Errorf("subset %d has %d servers, want %d", i, s.len(), 10/4)
		}
		for _, ip := range ipsOf(ix, s) {
			seen[ip]++
		}
	}
	for ip, n := range seen {
		if n != 1 {
			t.Errorf("server %v in %d subsets", ip, n)
		}
	}
	us := ix.zones["us"]
	for i := range subsets {
		if subsetOf(ix, us, i, fam4).len() != 5 {
			t.Errorf("us subset %d has %d servers, want all 5", i, subsetOf(ix, us, i, fam4).len())
		}
	}
	// Another period reshuffles; the same period is identical.
	reversed := testServers()
	slices.Reverse(reversed)
	again := buildIndex(reversed, nil, 1, 1)
	other := buildIndex(testServers(), nil, 1, 2)
	same, differs := true, false
	for i := range subsets {
		same = same && slices.Equal(ipsOf(ix, subsetOf(ix, de, i, fam4)), ipsOf(again, subsetOf(again, again.zones["de"], i, fam4)))
		differs = differs || !slices.Equal(ipsOf(ix, subsetOf(ix, de, i, fam4)), ipsOf(other, subsetOf(other, other.zones["de"], i, fam4)))
	}
	if !same {
		t.Error("same data and period gave different subsets")
	}
	if !differs {
		t.Error("the next period gave the same subsets")
	}
}

// ipsOf lists the addresses of s in rank order.
func ipsOf(_ *index, s *set) []string {
	var out []string
	r := 0
	s.root.each(func(e *entry) {
		if r >= s.lo && r < s.hi {
			out = append(out, ipOf(e, s.fam).String())
		}
		r++
	})
	return out
}

// subsetOf is the set of label n.z in ix.
func subsetOf(ix *index, z *zone, n, f int) *set { return &ix.sets[z.num][f].sub[n] }

// TestOptionsBothWays runs aaaa_all and fill off (the pool's behaviour) and on.
func TestOptionsBothWays(t *testing.T) {
	off := newStaticPool(t, testConfig(), testServers(), nil)
	cfg := testConfig()
	cfg.AAAAAll = true
	aaaaAll := newStaticPool(t, cfg, testServers(), nil)
	cfg = testConfig()
	cfg.Fill = true
	fill := newStaticPool(t, cfg, testServers(), nil)
	v6de := map[string]bool{"2001:db8::1": true, "2001:db8::2": true}

	t.Run("aaaa on every label", func(t *testing.T) {
		checkFrom(t, serve(t, off, ecsMsg("de.pool.ntp.test.", dns.TypeAAAA, ""), clientUK).Msg, 0, nil)
		checkFrom(t, serve(t, aaaaAll, ecsMsg("de.pool.ntp.test.", dns.TypeAAAA, ""), clientUK).Msg, 2, v6de)
		checkFrom(t, serve(t, aaaaAll, ecsMsg("pool.ntp.test.", dns.TypeAAAA, ""), clientDE).Msg, 2, v6de)
		checkFrom(t, serve(t, aaaaAll, ecsMsg("0.pool.ntp.test.", dns.TypeAAAA, ""), clientJP).Msg, 1, membersOf("jp"))
	})
	t.Run("fill small country from continent then global", func(t *testing.T) {
		uk := membersOf("gb")
		checkFrom(t, serve(t, off, ecsMsg("pool.ntp.test.", dns.TypeA, ""), clientUK).Msg, 1, uk)
		m := serve(t, fill, ecsMsg("pool.ntp.test.", dns.TypeA, ""), clientUK).Msg
		checkFrom(t, m, 4, membersOf("de", "fr", "gb"))
		if ips := answerIPs(m); ips[0] != "198.51.100.10" {
			t.Errorf("first record %s, want the country's own server first", ips[0])
		}
		// Explicit labels fill too.
		checkFrom(t, serve(t, off, ecsMsg("se.pool.ntp.test.", dns.TypeA, ""), clientUK).Msg, 0, nil)
		checkFrom(t, serve(t, fill, ecsMsg("se.pool.ntp.test.", dns.TypeA, ""), clientUK).Msg, 4, membersOf("de", "fr", "gb"))
		// jp has no IPv4 and asia none at all: fill reaches global.
		checkFrom(t, serve(t, fill, ecsMsg("jp.pool.ntp.test.", dns.TypeA, ""), clientUK).Msg, 4, membersOf("*"))
	})
}

func TestCountryDebug(t *testing.T) {
	p := newStaticPool(t, testConfig(), testServers(), nil)
	rec := serve(t, p, ecsMsg("_country.pool.ntp.test.", dns.TypeTXT, "89.160.20.128/25"), clientUS)
	if len(rec.Msg.Answer) != 1 {
		t.Fatalf("answer %v", rec.Msg.Answer)
	}
	txt := rec.Msg.Answer[0].(*dns.TXT)
	got := strings.Join(txt.Txt, "|")
	for _, want := range []string{"client 216.160.83.57:", "ecs 89.160.20.128/25", "located ecs 89.160.20.128/25", "targets se europe @"} {
		if !strings.Contains(got, want) {
			t.Errorf("TXT %q lacks %q", got, want)
		}
	}
	if txt.Hdr.Ttl != debugTTL {
		t.Errorf("TTL %d, want %d", txt.Hdr.Ttl, debugTTL)
	}
}

func TestOutsideZone(t *testing.T) {
	p := newStaticPool(t, testConfig(), testServers(), nil)
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	m := new(dns.Msg)
	m.SetQuestion("example.org.", dns.TypeA)
	rcode, err := p.ServeDNS(context.Background(), rec, m)
	if rcode != dns.RcodeRefused || err != nil {
		t.Errorf("no next plugin: rcode %d err %v, want REFUSED", rcode, err)
	}
	p.Next = test.NextHandler(dns.RcodeSuccess, nil)
	if rcode, _ := p.ServeDNS(context.Background(), rec, m); rcode != dns.RcodeSuccess {
		t.Errorf("with a next plugin: rcode %d, want it passed on", rcode)
	}
	// Suffix that is not at a label boundary.
	m.SetQuestion("xpool.ntp.test.", dns.TypeA)
	if rcode, _ := p.ServeDNS(context.Background(), rec, m); rcode != dns.RcodeSuccess {
		t.Errorf("xpool: rcode %d, want it passed on", rcode)
	}
}

func TestNotReadyIsServfail(t *testing.T) {
	p, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if p.Ready() {
		t.Error("ready without an index")
	}
	m := new(dns.Msg)
	m.SetQuestion("pool.ntp.test.", dns.TypeA)
	rcode, err := p.ServeDNS(context.Background(), dnstest.NewRecorder(&test.ResponseWriter{}), m)
	if rcode != dns.RcodeServerFailure || err == nil {
		t.Errorf("rcode %d err %v, want SERVFAIL and an error", rcode, err)
	}
}
