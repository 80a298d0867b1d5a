package main

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	clog "github.com/coredns/coredns/plugin/pkg/log"
	"github.com/coredns/coredns/test"
	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/poolgen"
	"github.com/ntppool-ng/ntppool/record"
)

func init() { clog.Discard() }

var geoDB, _ = filepath.Abs("../testdata/GeoIP2-Country-Test.mmdb")

func TestDirectiveOrder(t *testing.T) {
	i, j := -1, -1
	for k, d := range dnsserver.Directives {
		switch d {
		case "ntppool":
			i = k
		case "file":
			j = k
		}
	}
	if i < 0 || j != i+1 {
		t.Fatalf("ntppool at %d, file at %d: want ntppool just before file", i, j)
	}
}

// startPoolEtcd starts etcd holding a generated pool plus fixed servers.
func startPoolEtcd(t *testing.T, extra ...record.Server) (*embedetcd.Server, *clientv3.Client) {
	t.Helper()
	e, cli := embedetcd.StartForTest(t)
	servers := append(poolgen.Generate(poolgen.Options{N: 500, Seed: 3}), extra...)
	if err := poolgen.Write(context.Background(), cli, record.DefaultPrefix, servers, poolgen.SampleVendors()); err != nil {
		t.Fatal(err)
	}
	return e, cli
}

func startCoreDNS(t *testing.T, corefile string) (udp, tcp string) {
	t.Helper()
	inst, udp, tcp, err := test.CoreDNSServerAndPorts(corefile)
	if err != nil {
		t.Fatalf("start CoreDNS: %v", err)
	}
	t.Cleanup(func() { inst.Stop() })
	return udp, tcp
}

func exchange(t *testing.T, net, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s query %s: %v", net, m.Question[0].Name, err)
	}
	return r
}

func TestServerUDPAndTCP(t *testing.T) {
	e, _ := startPoolEtcd(t, record.Server{V: 1, IP: netip.MustParseAddr("198.51.100.10"), Weight: 1000, Country: "uk"})
	readyAddr := freeAddr(t)
	udp, tcp := startCoreDNS(t, `pool.ntp.test:0 {
		ready `+readyAddr+`
		errors
		ntppool {
			endpoint `+e.Endpoint()+`
			geoip `+geoDB+`
			ns ns1.example.net
		}
	}`)
	resp, err := http.Get("http://" + readyAddr + "/ready")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("ready: %v %v", resp, err)
	}
	resp.Body.Close()

	for _, proto := range []string{"udp", "tcp"} {
		addr := udp
		if proto == "tcp" {
			addr = tcp
		}
		t.Run(proto, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion("pool.ntp.test.", dns.TypeA)
			r := exchange(t, proto, addr, m)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 4 || !r.Authoritative {
				t.Errorf("apex A: rcode %d, %d answers", r.Rcode, len(r.Answer))
			}
			m.SetQuestion("nope.pool.ntp.test.", dns.TypeA)
			if r := exchange(t, proto, addr, m); r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
				t.Errorf("unknown name: rcode %d ns %v", r.Rcode, r.Ns)
			}
			// ECS through the real server: the reply's OPT carries the scope.
			m = new(dns.Msg)
			m.SetQuestion("uk.pool.ntp.test.", dns.TypeA)
			m.SetEdns0(1232, true)
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 27, Address: net.ParseIP("81.2.69.160").To4()}}
			r = exchange(t, proto, addr, m)
			opt := r.IsEdns0()
			if opt == nil || !opt.Do() || opt.UDPSize() < 512 {
				t.Fatalf("reply OPT %v", opt)
			}
			if len(opt.Option) != 1 {
				t.Fatalf("reply options %v", opt.Option)
			}
			if e := opt.Option[0].(*dns.EDNS0_SUBNET); e.SourceNetmask != 27 {
				t.Errorf("ECS echo %v", e)
			}
			m.SetQuestion("pool.ntp.test.", dns.TypeA)
			r = exchange(t, proto, addr, m)
			uk := map[string]bool{"198.51.100.10": true}
			for _, s := range poolgen.Generate(poolgen.Options{N: 500, Seed: 3}) {
				if s.Country == "uk" {
					uk[s.IP.String()] = true
				}
			}
			for _, rr := range r.Answer {
				if !uk[rr.(*dns.A).A.String()] {
					t.Errorf("GB client via ECS got %v, not a uk server", rr)
				}
			}
			if sc := r.IsEdns0().Option[0].(*dns.EDNS0_SUBNET).SourceScope; sc != 27 {
				t.Errorf("scope %d, want 27", sc)
			}
		})
	}
}

// TestServerTruncates: an answer too big for 512 bytes gets TC over UDP and
// comes whole over TCP.
func TestServerTruncates(t *testing.T) {
	var extra []record.Server
	for i := 1; i <= 20; i++ {
		extra = append(extra, record.Server{V: 1, IP: netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}), Weight: 1000})
	}
	e, cli := startPoolEtcd(t, extra...)
	// A long vendor name makes 16 AAAA records overflow 512 bytes.
	long := strings.Repeat("v", 63)
	val, _ := record.EncodeVendor(record.Vendor{Name: long, ClientType: record.ClientNTP})
	if _, err := cli.Put(context.Background(), record.VendorKey("", long), string(val)); err != nil {
		t.Fatal(err)
	}
	udp, tcp := startCoreDNS(t, `pool.ntp.test:0 {
		ntppool {
			endpoint `+e.Endpoint()+`
			records 16
			ns ns1.example.net
		}
	}`)
	m := new(dns.Msg)
	m.SetQuestion("2."+long+".pool.ntp.test.", dns.TypeAAAA)
	r := exchange(t, "udp", udp, m)
	if !r.Truncated {
		t.Errorf("UDP reply of %d records not truncated", len(r.Answer))
	}
	r = exchange(t, "tcp", tcp, m)
	if r.Truncated || len(r.Answer) != 16 {
		t.Errorf("TCP: truncated %v, %d records", r.Truncated, len(r.Answer))
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestCorefileExampleStarts runs Corefile.example (ports and etcd endpoint
// swapped for test ones) and the README's corefile blocks.
func TestCorefileExampleStarts(t *testing.T) {
	e, _ := startPoolEtcd(t)
	b, err := os.ReadFile("../../Corefile.example")
	if err != nil {
		t.Fatal(err)
	}
	startCorefile(t, string(b), e.Endpoint())
}

// startCorefile starts corefile with its listeners on free ports, its etcd
// endpoint replaced and its geoip path pointing at the test database.
func startCorefile(t *testing.T, corefile, endpoint string) {
	t.Helper()
	r := strings.NewReplacer(
		":1053", ":0",
		"http://127.0.0.1:2379", endpoint,
		"plugin/testdata/GeoIP2-Country-Test.mmdb", geoDB,
		"127.0.0.1:9153", freeAddr(t),
		"127.0.0.1:8091", freeAddr(t),
		"127.0.0.1:8181", freeAddr(t),
	)
	inst, err := caddy.Start(test.NewInput(r.Replace(corefile)))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	inst.Stop()
}
