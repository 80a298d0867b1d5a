package main

import (
	"io"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"testing"

	"github.com/miekg/dns"

	"github.com/ntppool-ng/ntppool/record"
)

// TestPluginsInFront: with prometheus, log and cache in front of ntppool
// (each wraps the response writer, so ntppool's own packing stays out of
// their way), answers are whole, the cache serves repeats, and the
// metrics count them.
func TestPluginsInFront(t *testing.T) {
	e, _ := startPoolEtcd(t, record.Server{V: 1, IP: netip.MustParseAddr("198.51.100.10"), Weight: 1000, Country: "uk"})
	metricsAddr := freeAddr(t)
	udp, _ := startCoreDNS(t, `pool.ntp.test:0 {
		prometheus `+metricsAddr+`
		log
		cache 30
		ntppool {
			endpoint `+e.Endpoint()+`
			ns ns1.example.net
		}
	}`)
	var first []dns.RR
	for i := range 3 {
		m := new(dns.Msg)
		m.SetQuestion("uk.pool.ntp.test.", dns.TypeA)
		m.SetEdns0(1232, false)
		r := exchange(t, "udp", udp, m)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 4 || r.IsEdns0() == nil {
			t.Fatalf("query %d: rcode %d, %d answers, OPT %v", i, r.Rcode, len(r.Answer), r.IsEdns0())
		}
		if i == 0 {
			first = r.Answer
			continue
		}
		// The cache answers repeats with the first reply's records.
		for j := range first {
			if first[j].(*dns.A).A.String() != r.Answer[j].(*dns.A).A.String() {
				t.Fatalf("query %d: %v, cached %v", i, r.Answer, first)
			}
		}
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, re := range []string{
		`coredns_cache_hits_total\{[^}]*\} (\d+)`,
		`coredns_dns_requests_total\{[^}]*zone="pool.ntp.test."[^}]*\} (\d+)`,
		`coredns_ntppool_answers_total\{[^}]*zone="uk"[^}]*\} (\d+)`,
	} {
		m := regexp.MustCompile(re).FindSubmatch(body)
		if m == nil {
			t.Errorf("metrics: no %s", re)
			continue
		}
		if n, _ := strconv.Atoi(string(m[1])); n < 1 {
			t.Errorf("metrics: %s", m[0])
		}
	}
}
