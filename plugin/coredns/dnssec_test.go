package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"

	"github.com/ntppool-ng/ntppool/record"
)

// writeKey writes a DNSSEC key for zone as base.key and base.private and
// returns the key.
func writeKey(t *testing.T, zone, base string) (*dns.DNSKEY, string) {
	t.Helper()
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     257,
		Protocol:  3,
		Algorithm: dns.ECDSAP256SHA256,
	}
	priv, err := k.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base+".key", []byte(k.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base+".private", []byte(k.PrivateKeyString(priv)), 0o600); err != nil {
		t.Fatal(err)
	}
	return k, base
}

// TestDNSSECSignedAnswersValidate: with dnssec in front, address answers
// and the SOA carry RRSIGs that verify with the zone's key.
func TestDNSSECSignedAnswersValidate(t *testing.T) {
	e, _ := startPoolEtcd(t, record.Server{V: 1, IP: netip.MustParseAddr("198.51.100.10"), Weight: 1000, Country: "uk"})
	key, base := writeKey(t, "pool.ntp.test.", filepath.Join(t.TempDir(), "Kpool.ntp.test"))
	udp, _ := startCoreDNS(t, `pool.ntp.test:0 {
		dnssec {
			key file `+base+`
		}
		ntppool {
			endpoint `+e.Endpoint()+`
			ns ns1.example.net
		}
	}`)
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"pool.ntp.test.", dns.TypeA}, {"uk.pool.ntp.test.", dns.TypeA}, {"pool.ntp.test.", dns.TypeSOA}, {"2.pool.ntp.test.", dns.TypeAAAA}} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.SetEdns0(4096, true)
		r := exchange(t, "udp", udp, m)
		var rrs []dns.RR
		var sig *dns.RRSIG
		for _, rr := range r.Answer {
			if s, ok := rr.(*dns.RRSIG); ok {
				sig = s
			} else {
				rrs = append(rrs, rr)
			}
		}
		if sig == nil || len(rrs) == 0 {
			t.Fatalf("%s %s: no signed answer: %v", q.name, dns.TypeToString[q.qtype], r.Answer)
		}
		if err := sig.Verify(key, rrs); err != nil {
			t.Errorf("%s %s: RRSIG does not verify: %v", q.name, dns.TypeToString[q.qtype], err)
		}
		if !sig.ValidityPeriod(timeNow()) {
			t.Errorf("%s: signature not valid now", q.name)
		}
	}
}
