package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// zoneFileText is the zone file of the README's fallthrough example.
const zoneFileText = `$ORIGIN pool.ntp.test.
@                3600 IN SOA  ns1 hostmaster 1 5400 5400 1209600 3600
www               300 IN A    192.0.2.80
_acme-challenge   300 IN TXT  "token"
`

func writeZoneFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.pool.ntp.test")
	if err := os.WriteFile(path, []byte(zoneFileText), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServerNameServersFallthroughTransfer runs ntppool with in-zone name
// servers and fallthrough to file in a real CoreDNS.
func TestServerNameServersFallthroughTransfer(t *testing.T) {
	e, _ := startPoolEtcd(t)
	zone := writeZoneFile(t)
	corefile := func(fall string) string {
		return `pool.ntp.test:0 {
			ntppool {
				endpoint ` + e.Endpoint() + `
				geoip ` + geoDB + `
				ns ns1.pool.ntp.test 192.0.2.53 2001:db8::53
				ns ns2.example.net
				` + fall + `
			}
			file ` + zone + `
		}`
	}
	udp, tcp := startCoreDNS(t, corefile("fallthrough"))
	q := func(proto, name string, qtype uint16) *dns.Msg {
		addr := udp
		if proto == "tcp" {
			addr = tcp
		}
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		return exchange(t, proto, addr, m)
	}
	rrs := func(rrs []dns.RR) []string {
		var out []string
		for _, rr := range rrs {
			out = append(out, rr.String())
		}
		slices.Sort(out)
		return out
	}

	r := q("udp", "pool.ntp.test.", dns.TypeNS)
	wantNS := []string{"pool.ntp.test.\t86400\tIN\tNS\tns1.pool.ntp.test.", "pool.ntp.test.\t86400\tIN\tNS\tns2.example.net."}
	wantGlue := []string{"ns1.pool.ntp.test.\t86400\tIN\tA\t192.0.2.53", "ns1.pool.ntp.test.\t86400\tIN\tAAAA\t2001:db8::53"}
	if !r.Authoritative || !slices.Equal(rrs(r.Answer), wantNS) || !slices.Equal(rrs(r.Extra), wantGlue) {
		t.Errorf("NS: aa %v answer %v extra %v", r.Authoritative, r.Answer, r.Extra)
	}
	r = q("udp", "ns1.pool.ntp.test.", dns.TypeA)
	if !r.Authoritative || !slices.Equal(rrs(r.Answer), wantGlue[:1]) {
		t.Errorf("ns1 A: aa %v %v", r.Authoritative, r.Answer)
	}
	r = q("tcp", "ns1.pool.ntp.test.", dns.TypeAAAA)
	if !r.Authoritative || !slices.Equal(rrs(r.Answer), wantGlue[1:]) {
		t.Errorf("ns1 AAAA: aa %v %v", r.Authoritative, r.Answer)
	}

	// file behind ntppool serves the extra names.
	r = q("udp", "www.pool.ntp.test.", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess || !slices.Equal(rrs(r.Answer), []string{"www.pool.ntp.test.\t300\tIN\tA\t192.0.2.80"}) {
		t.Errorf("www through file: rcode %d %v", r.Rcode, r.Answer)
	}
	r = q("udp", "_acme-challenge.pool.ntp.test.", dns.TypeTXT)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != "token" {
		t.Errorf("ACME TXT through file: %v", r.Answer)
	}
	r = q("udp", "nope.pool.ntp.test.", dns.TypeA)
	if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].(*dns.SOA).Serial != 1 {
		t.Errorf("unknown name: rcode %d ns %v, want file's NXDOMAIN", r.Rcode, r.Ns)
	}
	// The pool's names stay the plugin's.
	r = q("udp", "pool.ntp.test.", dns.TypeA)
	if len(r.Answer) != 4 {
		t.Errorf("apex A: %v", r.Answer)
	}
	r = q("udp", "pool.ntp.test.", dns.TypeSOA)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.SOA).Serial == 1 {
		t.Errorf("apex SOA %v, want the plugin's", r.Answer)
	}

	// Zone transfers are refused, over TCP and UDP.
	for _, proto := range []string{"tcp", "udp"} {
		r = q(proto, "pool.ntp.test.", dns.TypeAXFR)
		if r.Rcode != dns.RcodeRefused || len(r.Answer) != 0 {
			t.Errorf("AXFR over %s: rcode %s, %d records", proto, dns.RcodeToString[r.Rcode], len(r.Answer))
		}
		m := new(dns.Msg)
		m.SetIxfr("pool.ntp.test.", 1, "ns1.pool.ntp.test.", "hostmaster.pool.ntp.test.")
		addr := udp
		if proto == "tcp" {
			addr = tcp
		}
		r = exchange(t, proto, addr, m)
		if r.Rcode != dns.RcodeRefused || len(r.Answer) != 0 {
			t.Errorf("IXFR over %s: rcode %s, %d records", proto, dns.RcodeToString[r.Rcode], len(r.Answer))
		}
	}

	// Without fallthrough the plugin keeps its NXDOMAIN.
	udp, _ = startCoreDNS(t, corefile(""))
	m := new(dns.Msg)
	m.SetQuestion("www.pool.ntp.test.", dns.TypeA)
	r = exchange(t, "udp", udp, m)
	if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].(*dns.SOA).Serial == 1 {
		t.Errorf("www without fallthrough: rcode %d ns %v, want the plugin's NXDOMAIN", r.Rcode, r.Ns)
	}
}
