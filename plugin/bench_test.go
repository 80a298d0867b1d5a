package ntppool

import (
	"context"
	"fmt"
	"testing"

	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"

	"github.com/ntppool-ng/ntppool/internal/poolgen"
)

// discardWriter drops replies, so the benchmark measures the plugin only.
type discardWriter struct{ test.ResponseWriter }

func (discardWriter) WriteMsg(*dns.Msg) error { return nil }

// BenchmarkServeDNS answers the pool's query mix from indexes of 100 to
// 100,000 generated servers.
func BenchmarkServeDNS(b *testing.B) {
	queries := []struct {
		name  string
		qname string
		qtype uint16
		ecs   string
	}{
		{"apex", "pool.ntp.test.", dns.TypeA, ""},
		{"apex-ecs", "pool.ntp.test.", dns.TypeA, "81.2.69.160/27"},
		{"numbered-ecs", "1.pool.ntp.test.", dns.TypeA, "89.160.20.128/25"},
		{"country", "de.pool.ntp.test.", dns.TypeA, ""},
		{"2.country-aaaa", "2.de.pool.ntp.test.", dns.TypeAAAA, ""},
		{"continent", "0.europe.pool.ntp.test.", dns.TypeA, ""},
	}
	for _, n := range []int{100, 10000, 100000} {
		p, err := New(testConfig())
		if err != nil {
			b.Fatal(err)
		}
		p.setIndex(buildIndex(poolgen.Generate(poolgen.Options{N: n, Seed: 1}), nil, 1, 1))
		for _, q := range queries {
			b.Run(fmt.Sprintf("servers=%d/%s", n, q.name), func(b *testing.B) {
				m := ecsMsg(q.qname, q.qtype, q.ecs)
				w := &discardWriter{test.ResponseWriter{RemoteIP: "127.0.0.1"}}
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					p.ServeDNS(ctx, w, m)
				}
			})
		}
	}
}

// BenchmarkBuildIndex rebuilds the index of 100,000 servers, the cost of
// every etcd change at that size.
func BenchmarkBuildIndex(b *testing.B) {
	servers := poolgen.Generate(poolgen.Options{N: 100000, Seed: 1})
	b.ReportAllocs()
	for b.Loop() {
		buildIndex(servers, nil, 1, 1)
	}
}
