// Package poolgen generates realistic pool server sets and writes them to
// etcd in the record format: the data of benchmarks, load tests and the
// sample pool of the run command.
//
// Servers are spread over countries roughly as in the real pool (Germany,
// the United States and western Europe dominate, a long tail elsewhere),
// about a third have IPv6, a few have no country, and net speeds follow the
// pool's menu with the common values most frequent.
package poolgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/record"
)

// Options says what to generate. The zero value of a field means its default.
type Options struct {
	N         int     // number of servers
	Seed      uint64  // same seed, same servers
	IPv6Share float64 // share of IPv6 servers (default 0.35)
	NoCountry float64 // share without a country (default 0.01)
}

// countryShares approximates where the real pool's servers are; the rest
// (tailShare) is spread evenly over every other country.
var countryShares = []struct {
	cc    string
	share float64
}{
	{"de", 0.20}, {"us", 0.15}, {"fr", 0.06}, {"uk", 0.05}, {"nl", 0.05},
	{"ru", 0.03}, {"ca", 0.03}, {"se", 0.025}, {"ch", 0.025}, {"pl", 0.02},
	{"fi", 0.02}, {"jp", 0.02}, {"au", 0.02}, {"cz", 0.015}, {"at", 0.015},
	{"it", 0.015}, {"br", 0.015}, {"cn", 0.01}, {"sg", 0.01}, {"in", 0.01},
	{"za", 0.005}, {"ar", 0.005}, {"nz", 0.005},
}

const tailShare = 0.25

// netSpeeds are the pool's net speed choices (kbit/s) with how often they
// are picked, the default 10 Mbit most of all.
var netSpeeds = []struct {
	kbit int64
	freq float64
}{
	{512, 0.02}, {1500, 0.05}, {3000, 0.04}, {6000, 0.04}, {10000, 0.30},
	{12000, 0.04}, {25000, 0.06}, {50000, 0.07}, {100000, 0.15},
	{250000, 0.04}, {500000, 0.05}, {1000000, 0.10}, {1500000, 0.01},
	{2000000, 0.01}, {3000000, 0.01},
}

// Generate returns opts.N distinct servers, deterministic for opts.Seed.
func Generate(opts Options) []record.Server {
	if opts.IPv6Share == 0 {
		opts.IPv6Share = 0.35
	}
	if opts.NoCountry == 0 {
		opts.NoCountry = 0.01
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed))
	all := record.Countries()
	out := make([]record.Server, opts.N)
	var n4, n6 uint32
	for i := range out {
		s := record.Server{V: record.Version, Weight: pickSpeed(rng), Country: pickCountry(rng, all, opts.NoCountry)}
		if rng.Float64() < opts.IPv6Share {
			s.IP = v6Addr(n6)
			n6++
		} else {
			s.IP = v4Addr(n4)
			n4++
		}
		out[i] = s
	}
	return out
}

// v4Addr is the n-th generated IPv4 address: 20.0.0.1 onwards in steps of 7,
// so servers spread over many /24s.
func v4Addr(n uint32) netip.Addr {
	x := 20<<24 + 1 + 7*n
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}

// v6Addr is the n-th generated IPv6 address, one per /64 of 2a00:1000::/32.
func v6Addr(n uint32) netip.Addr {
	b := [16]byte{0x2a, 0x00, 0x10, 0x00, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 15: 1}
	return netip.AddrFrom16(b)
}

func pickCountry(rng *rand.Rand, all []string, noCountry float64) string {
	u := rng.Float64()
	if u < noCountry {
		return ""
	}
	u = rng.Float64()
	for _, c := range countryShares {
		if u < c.share {
			return c.cc
		}
		u -= c.share
	}
	return all[rng.IntN(len(all))]
}

func pickSpeed(rng *rand.Rand) int64 {
	u := rng.Float64()
	for _, s := range netSpeeds {
		if u < s.freq {
			return s.kbit
		}
		u -= s.freq
	}
	return 10000
}

// SampleVendors are a few vendor zones of each client type.
func SampleVendors() []record.Vendor {
	return []record.Vendor{
		{V: record.Version, Name: "acme", ClientType: record.ClientSNTP},
		{V: record.Version, Name: "routerco", ClientType: record.ClientNTP},
		{V: record.Version, Name: "oldbox", ClientType: record.ClientLegacy},
	}
}

// maxTxnOps is etcd's default limit of operations in one transaction.
const maxTxnOps = 128

// Write puts servers and vendors under prefix, in transactions of up to
// 128 keys.
func Write(ctx context.Context, cli *clientv3.Client, prefix string, servers []record.Server, vendors []record.Vendor) error {
	ops := make([]clientv3.Op, 0, maxTxnOps)
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			return fmt.Errorf("poolgen: write: %w", err)
		}
		ops = ops[:0]
		return nil
	}
	put := func(key string, val []byte, err error) error {
		if err != nil {
			return fmt.Errorf("poolgen: encode %s: %w", key, err)
		}
		ops = append(ops, clientv3.OpPut(key, string(val)))
		if len(ops) == maxTxnOps {
			return flush()
		}
		return nil
	}
	for _, s := range servers {
		val, err := record.EncodeServer(s)
		if err := put(record.ServerKey(prefix, s.IP), val, err); err != nil {
			return err
		}
	}
	for _, v := range vendors {
		val, err := record.EncodeVendor(v)
		if err := put(record.VendorKey(prefix, v.Name), val, err); err != nil {
			return err
		}
	}
	return flush()
}
