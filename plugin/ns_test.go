package ntppool

import (
	"context"
	"net/netip"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
)

// nsConfig has one in-zone name server with both families, one in-zone
// deeper down with IPv6 only, and one outside the zone.
func nsConfig() Config {
	cfg := testConfig()
	cfg.NS = []string{"ns1.pool.ntp.test.", "ns2.example.org.", "ns3.sub.pool.ntp.test."}
	cfg.NSAddrs = map[string][]netip.Addr{
		"ns1.pool.ntp.test.":     {netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8::53")},
		"ns3.sub.pool.ntp.test.": {netip.MustParseAddr("2001:db8::3")},
	}
	return cfg
}

func TestNameServers(t *testing.T) {
	p := newStaticPool(t, nsConfig(), testServers(), testVendors())
	soa := test.SOA("pool.ntp.test. 1500 IN SOA ns1.pool.ntp.test. hostmaster.pool.ntp.test. 49 5400 5400 1209600 3600")
	glue := []dns.RR{
		test.A("ns1.pool.ntp.test. 86400 IN A 192.0.2.53"),
		test.AAAA("ns1.pool.ntp.test. 86400 IN AAAA 2001:db8::53"),
		test.AAAA("ns3.sub.pool.ntp.test. 86400 IN AAAA 2001:db8::3"),
	}
	cases := []test.Case{
		{Qname: "pool.ntp.test.", Qtype: dns.TypeNS, Answer: []dns.RR{
			test.NS("pool.ntp.test. 86400 IN NS ns1.pool.ntp.test."),
			test.NS("pool.ntp.test. 86400 IN NS ns2.example.org."),
			test.NS("pool.ntp.test. 86400 IN NS ns3.sub.pool.ntp.test."),
		}, Extra: glue},
		{Qname: "pool.ntp.test.", Qtype: dns.TypeSOA, Answer: []dns.RR{soa}},
		{Qname: "ns1.pool.ntp.test.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("ns1.pool.ntp.test. 86400 IN A 192.0.2.53")}},
		{Qname: "NS1.Pool.ntp.test.", Qtype: dns.TypeAAAA, Answer: []dns.RR{test.AAAA("NS1.Pool.ntp.test. 86400 IN AAAA 2001:db8::53")}},
		{Qname: "ns1.pool.ntp.test.", Qtype: dns.TypeMX, Ns: []dns.RR{soa}},
		{Qname: "ns1.pool.ntp.test.", Qtype: dns.TypeANY, Answer: []dns.RR{test.HINFO(`ns1.pool.ntp.test. 8482 IN HINFO "RFC8482" ""`)}},
		{Qname: "ns3.sub.pool.ntp.test.", Qtype: dns.TypeAAAA, Answer: []dns.RR{test.AAAA("ns3.sub.pool.ntp.test. 86400 IN AAAA 2001:db8::3")}},
		{Qname: "ns3.sub.pool.ntp.test.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},
		// sub exists (a name server is below it), so NODATA, not NXDOMAIN.
		{Qname: "sub.pool.ntp.test.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},
		{Qname: "ns2.pool.ntp.test.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "x.ns1.pool.ntp.test.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	}
	for _, tc := range cases {
		t.Run(dns.TypeToString[tc.Qtype]+" "+tc.Qname, func(t *testing.T) {
			m := tc.Msg()
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = ecsMsg(".", dns.TypeA, "10.0.0.0/8").IsEdns0().Option
			rec := serve(t, p, m, clientUK)
			got := rec.Msg.Copy()
			got.Extra = nil
			for _, rr := range rec.Msg.Extra {
				if rr.Header().Rrtype != dns.TypeOPT {
					got.Extra = append(got.Extra, rr)
				}
			}
			if err := test.SortAndCheck(got, tc); err != nil {
				t.Error(err)
			}
			if !got.Authoritative {
				t.Error("not authoritative")
			}
			if scope, ok := replyScope(t, rec.Msg); !ok || scope != 0 {
				t.Errorf("ECS scope %d (echoed %v), want 0", scope, ok)
			}
		})
	}
}

// TestFallthrough: with fallthrough, names the plugin does not have go to
// the next plugin; its own names, the name servers' and an empty
// non-terminal above one do not.
func TestFallthrough(t *testing.T) {
	for _, tc := range []struct {
		fall   []string // nil: no fallthrough line
		qname  string
		passed bool
	}{
		{nil, "www.pool.ntp.test.", false},
		{[]string{}, "www.pool.ntp.test.", true},
		{[]string{}, "_acme-challenge.pool.ntp.test.", true},
		{[]string{"www.pool.ntp.test"}, "www.pool.ntp.test.", true},
		{[]string{"www.pool.ntp.test"}, "a.www.pool.ntp.test.", true},
		{[]string{"www.pool.ntp.test"}, "ftp.pool.ntp.test.", false},
		{[]string{}, "de.pool.ntp.test.", false},
		{[]string{}, "pool.ntp.test.", false},
		{[]string{}, "acme.pool.ntp.test.", false},
		{[]string{}, "ns1.pool.ntp.test.", false},
		{[]string{}, "sub.pool.ntp.test.", false},
	} {
		cfg := nsConfig()
		if tc.fall != nil {
			cfg.Fall.SetZonesFromArgs(tc.fall)
		}
		p := newStaticPool(t, cfg, testServers(), testVendors())
		p.Next = test.NextHandler(dns.RcodeBadCookie, nil) // a code only the next plugin returns
		m := new(dns.Msg)
		m.SetQuestion(tc.qname, dns.TypeA)
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		rcode, err := p.ServeDNS(context.Background(), rec, m)
		if err != nil {
			t.Fatal(err)
		}
		if passed := rcode == dns.RcodeBadCookie; passed != tc.passed {
			t.Errorf("fallthrough %v, %s: passed on %v, want %v", tc.fall, tc.qname, passed, tc.passed)
		}
	}
}

// TestZoneTransferRefused: AXFR and IXFR get REFUSED, which CoreDNS writes.
func TestZoneTransferRefused(t *testing.T) {
	p := newStaticPool(t, nsConfig(), testServers(), testVendors())
	p.Next = test.NextHandler(dns.RcodeSuccess, nil)
	for _, qt := range []uint16{dns.TypeAXFR, dns.TypeIXFR} {
		m := new(dns.Msg)
		m.SetQuestion("pool.ntp.test.", qt)
		rcode, err := p.ServeDNS(context.Background(), dnstest.NewRecorder(&test.ResponseWriter{}), m)
		if rcode != dns.RcodeRefused || err != nil {
			t.Errorf("%s: rcode %d err %v, want REFUSED", dns.TypeToString[qt], rcode, err)
		}
	}
}
