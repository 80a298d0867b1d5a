package ntppool

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"

	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/poolgen"
	"github.com/ntppool-ng/ntppool/record"
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

// BenchmarkChangeToAnswer measures, per op, the time from a Put of a new
// server into etcd to the first answer that carries it, with 10,000 and
// 100,000 servers in the index, and reports its median and 99th percentile.
func BenchmarkChangeToAnswer(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			e, err := embedetcd.Start(embedetcd.Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Stop()
			cli, err := e.Client()
			if err != nil {
				b.Fatal(err)
			}
			defer cli.Close()
			servers := poolgen.Generate(poolgen.Options{N: n, Seed: 1})
			if err := poolgen.Write(context.Background(), cli, record.DefaultPrefix, servers, nil); err != nil {
				b.Fatal(err)
			}
			cfg := testConfig()
			cfg.Endpoints = []string{e.Endpoint()}
			cfg.StartupTimeout = 30 * time.Second
			cfg.HealthInterval = time.Hour
			p, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			p.Start()
			defer p.Stop()
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "load-ms")
			// The change is in the answers once an index at or past the Put's
			// revision is in: queries load it on their next call. Changes
			// are spaced by the debounce window (not timed), so each one
			// is measured alone rather than batched with the one before.
			i := 0
			var putTime time.Duration
			var lat, puts []time.Duration
			b.ResetTimer()
			for b.Loop() {
				i++
				ip := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
				val, _ := record.EncodeServer(record.Server{IP: ip, Weight: 1000, Country: "aq"})
				t0 := time.Now()
				resp, err := cli.Put(context.Background(), record.ServerKey("", ip), string(val))
				if err != nil {
					b.Fatal(err)
				}
				putTime += time.Since(t0)
				puts = append(puts, time.Since(t0))
				for p.idx.Load().rev < resp.Header.Revision {
					time.Sleep(50 * time.Microsecond) // polling interval
				}
				lat = append(lat, time.Since(t0))
				b.StopTimer()
				time.Sleep(cfg.Debounce)
				b.StartTimer()
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			// The Put alone (etcd's commit, fsync included), to tell its
			// tail from the plugin's.
			slices.Sort(puts)
			b.ReportMetric(float64(puts[len(puts)*99/100].Microseconds())/1000, "put-p99-ms")
			b.ReportMetric(float64(putTime.Milliseconds())/float64(i), "put-ms/op")
		})
	}
}
