package ntppool

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"

	"github.com/ntppool-ng/ntppool/record"
)

const testOrigin = "pool.ntp.test."

// Test clients located by the MaxMind test databases in testdata.
const (
	clientUK = "81.2.69.160"   // GB, network /27
	clientSE = "89.160.20.130" // SE, network /25
	clientUS = "216.160.83.57" // US, network /29
	clientCN = "175.16.199.5"  // CN, network /24
	clientJP = "2001:218::1"   // JP, network /32
	clientDE = "2a02:d180::1"  // DE, network /29
)

const testGeoDB = "testdata/GeoIP2-Country-Test.mmdb"

// lockedRand makes a seeded *rand.Rand safe for concurrent handlers.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) Int64N(n int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Int64N(n)
}

func seeded() *lockedRand { return &lockedRand{r: rand.New(rand.NewPCG(1, 2))} }

func srv(ip string, weight int64, country string) record.Server {
	return record.Server{V: 1, IP: netip.MustParseAddr(ip), Weight: weight, Country: country}
}

// testServers is a small pool: de has 10 IPv4 and 2 IPv6 servers, fr 2, uk
// 1, us 5, jp one IPv6 server, and one server without a country.
func testServers() []record.Server {
	var s []record.Server
	for i := 1; i <= 10; i++ {
		s = append(s, srv(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).String(), int64(1000*i), "de"))
	}
	s = append(s,
		srv("2001:db8::1", 1000, "de"), srv("2001:db8::2", 1000, "de"),
		srv("198.51.100.1", 1000, "fr"), srv("198.51.100.2", 1000, "fr"),
		srv("198.51.100.10", 1000, "gb"),
		srv("2001:db8:1::1", 1000, "jp"),
		srv("203.0.113.1", 1000, ""),
	)
	for i := 1; i <= 5; i++ {
		s = append(s, srv(netip.AddrFrom4([4]byte{198, 51, 100, byte(100 + i)}).String(), 1500, "us"))
	}
	return s
}

func testVendors() []record.Vendor {
	return []record.Vendor{
		{V: 1, Name: "acme", ClientType: record.ClientSNTP},
		{V: 1, Name: "ntpcorp", ClientType: record.ClientNTP},
		{V: 1, Name: "oldco", ClientType: record.ClientLegacy},
	}
}

// testConfig is a configuration for the static pool of testServers.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Origins = []string{testOrigin}
	cfg.GeoIPPath = testGeoDB
	cfg.NS = []string{"ns1.example.org.", "ns2.example.org."}
	return cfg
}

// newStaticPool returns a plugin answering from an index of servers, with
// seeded randomness and no etcd.
func newStaticPool(t testing.TB, cfg Config, servers []record.Server, vendors []record.Vendor) *NTPPool {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.rng = seeded()
	p.setIndex(buildIndex(servers, vendors, 42, 7))
	return p
}
