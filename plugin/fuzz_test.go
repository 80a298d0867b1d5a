package ntppool

import (
	"testing"

	"github.com/coredns/coredns/plugin/pkg/fuzz"
	"github.com/miekg/dns"
)

// FuzzServeDNS feeds arbitrary packets to the handler: it must never panic
// and never fail (every query gets a reply).
func FuzzServeDNS(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
		ecs   string
	}{
		{"pool.ntp.test.", dns.TypeA, "81.2.69.160/27"},
		{"2.de.pool.ntp.test.", dns.TypeAAAA, "2001:218::/48"},
		{"_country.pool.ntp.test.", dns.TypeTXT, "89.160.20.128/25"},
		{"x.y.pool.ntp.test.", dns.TypeANY, ""},
		{"acme.pool.ntp.test.", dns.TypeSOA, "0.0.0.0/0"},
		{"ns1.pool.ntp.test.", dns.TypeAAAA, "10.0.0.0/8"},
		{"sub.pool.ntp.test.", dns.TypeA, "::1/128"},
		{"pool.ntp.test.", dns.TypeNS, "fd00::/7"},
		{"pool.ntp.test.", dns.TypeAXFR, ""},
	} {
		b, err := ecsMsg(q.name, q.qtype, q.ecs).Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	p := newStaticPool(f, nsConfig(), testServers(), testVendors())
	f.Fuzz(func(t *testing.T, data []byte) {
		if fuzz.Do(p, data) != 0 {
			t.Error("ServeDNS returned an error")
		}
	})
}
