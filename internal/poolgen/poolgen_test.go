package poolgen

import (
	"context"
	"slices"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/record"
)

func TestGenerateIsDeterministicAndValid(t *testing.T) {
	a := Generate(Options{N: 5000, Seed: 1})
	b := Generate(Options{N: 5000, Seed: 1})
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different servers")
	}
	ips := map[string]bool{}
	countries := map[string]int{}
	v6 := 0
	for _, s := range a {
		if _, err := record.EncodeServer(s); err != nil {
			t.Fatalf("invalid server: %v", err)
		}
		if ips[s.IP.String()] {
			t.Fatalf("duplicate %s", s.IP)
		}
		ips[s.IP.String()] = true
		countries[s.Country]++
		if s.IP.Is6() {
			v6++
		}
	}
	if countries["de"] < 800 || countries["de"] > 1200 {
		t.Errorf("de has %d of 5000, want about 20%%", countries["de"])
	}
	if len(countries) < 100 {
		t.Errorf("only %d countries", len(countries))
	}
	if v6 < 1500 || v6 > 2000 {
		t.Errorf("%d IPv6 servers of 5000, want about 35%%", v6)
	}
}

func TestWrite(t *testing.T) {
	_, cli := embedetcd.StartForTest(t)
	servers := Generate(Options{N: 300, Seed: 2})
	if err := Write(context.Background(), cli, record.DefaultPrefix, servers, SampleVendors()); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(context.Background(), record.ServersPrefix(""), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Count != 300 {
		t.Errorf("%d server keys, want 300", resp.Count)
	}
}
