package main

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/poolgen"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/record"
)

// TestThroughECSCachingResolver puts Debian's unbound, with its subnetcache
// module, in front of the plugin's CoreDNS, as big public resolvers sit in
// front of the pool. A query from a local client (unbound adds its address,
// 127.0.0.1/32, which cannot be located) comes first; then clients from
// several countries of MaxMind's test database, each with its own subnet,
// must get their own country's (or continent's) servers through unbound's
// cache, not the global answer cached for the local client.
func TestThroughECSCachingResolver(t *testing.T) {
	// Small countries, so an answer holds all of a country's servers and
	// tells apart from a global answer (4 of 20).
	pool := map[string][]string{
		"uk": {"192.0.2.11", "192.0.2.12"},
		"se": {"192.0.2.21", "192.0.2.22"},
		"us": {"192.0.2.31", "192.0.2.32", "192.0.2.33"},
		"de": {"192.0.2.41", "192.0.2.42"},
		"jp": {"192.0.2.51", "192.0.2.52", "192.0.2.53"}, // all of asia
		"":   {"192.0.2.61", "192.0.2.62", "192.0.2.63", "192.0.2.64", "192.0.2.65", "192.0.2.66", "192.0.2.67", "192.0.2.68"},
	}
	var servers []record.Server
	for cc, ips := range pool {
		for _, ip := range ips {
			servers = append(servers, record.Server{V: 1, IP: netip.MustParseAddr(ip), Weight: 1000, Country: cc})
		}
	}
	e, cli := embedetcd.StartForTest(t)
	if err := poolgen.Write(t.Context(), cli, record.DefaultPrefix, servers, nil); err != nil {
		t.Fatal(err)
	}
	udp, _ := startCoreDNS(t, `pool.ntp.test:0 {
		bind 127.0.0.1
		ntppool {
			endpoint `+e.Endpoint()+`
			geoip `+geoDB+`
			ns ns1.pool.ntp.test 127.0.0.1
		}
	}`)
	resolver := startUnbound(t, udp)

	ask := func(subnet string) (ips []string, scope int) {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion("pool.ntp.test.", dns.TypeA)
		m.SetEdns0(1232, false)
		if subnet != "" {
			pfx := netip.MustParsePrefix(subnet)
			fam := uint16(1)
			if pfx.Addr().Is6() {
				fam = 2
			}
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: fam,
				SourceNetmask: uint8(pfx.Bits()), Address: net.IP(pfx.Addr().AsSlice())}}
		}
		r := exchange(t, "udp", resolver, m)
		if r.Rcode != dns.RcodeSuccess {
			t.Fatalf("%s: rcode %s", subnet, dns.RcodeToString[r.Rcode])
		}
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok {
				ips = append(ips, a.A.String())
			}
		}
		slices.Sort(ips)
		scope = -1
		if opt := r.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				if e, ok := o.(*dns.EDNS0_SUBNET); ok {
					scope = int(e.SourceScope)
				}
			}
		}
		return ips, scope
	}

	// unbound sends the plugin its local client's address as the subnet.
	m := new(dns.Msg)
	m.SetQuestion("_country.pool.ntp.test.", dns.TypeTXT)
	r := exchange(t, "udp", resolver, m)
	if len(r.Answer) != 1 || !slices.Contains(r.Answer[0].(*dns.TXT).Txt, "ecs 127.0.0.1/32") {
		t.Fatalf("_country through unbound: %v, want ecs 127.0.0.1/32", r.Answer)
	}

	// The local client: unlocatable, so it gets 4 of the global set.
	local, _ := ask("")
	if len(local) != 4 {
		t.Fatalf("local client got %v, want 4 global records", local)
	}
	for _, tc := range []struct {
		country, subnet, zone string
	}{
		{"GB", "81.2.69.160/27", "uk"},
		{"SE", "89.160.20.128/25", "se"},
		{"US", "216.160.83.56/29", "us"},
		{"BT (asia)", "67.43.156.0/24", "jp"},
		{"CN (asia)", "175.16.199.0/24", "jp"},
		{"DE over IPv6", "2a02:d180::/48", "de"},
		{"JP over IPv6", "2001:218::/48", "jp"},
	} {
		want := slices.Sorted(slices.Values(pool[tc.zone]))
		got, scope := ask(tc.subnet)
		if !slices.Equal(got, want) {
			t.Errorf("client in %s (%s) through unbound got %v (scope %d), want %s's servers %v", tc.country, tc.subnet, got, scope, tc.zone, want)
		}
	}
}

// startUnbound runs unbound in the foreground on a free loopback port with
// its own config, directory and pid file, resolving pool.ntp.test at
// upstream (host:port) with EDNS Client Subnet; it is killed at the end.
func startUnbound(t *testing.T, upstream string) string {
	t.Helper()
	bin, err := exec.LookPath("unbound")
	if err != nil {
		bin = "/usr/sbin/unbound" // Debian's; not on a user's PATH
	}
	up, err := netip.ParseAddrPort(upstream)
	if err != nil {
		t.Fatalf("upstream %q: %v", upstream, err)
	}
	port := freeUDPPort(t)
	dir := t.TempDir()
	conf := fmt.Sprintf(`server:
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	do-tcp: no
	do-daemonize: no
	use-syslog: no
	logfile: ""
	log-servfail: yes
	verbosity: 1
	chroot: ""
	username: ""
	directory: %q
	pidfile: %q
	num-threads: 1
	so-reuseport: no
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	local-zone: "test." nodefault
	domain-insecure: "pool.ntp.test."
	qname-minimisation: no
	module-config: "subnetcache iterator"
	send-client-subnet: 127.0.0.1
	send-client-subnet: ::1
	client-subnet-always-forward: yes
	max-client-subnet-ipv4: 32
	max-client-subnet-ipv6: 128
remote-control:
	control-enable: no
stub-zone:
	name: "pool.ntp.test."
	stub-addr: 127.0.0.1@%d
`, port, dir, filepath.Join(dir, "unbound.pid"), up.Port())
	path := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-d", "-c", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start unbound: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("unbound output:\n%s", out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	probe := new(dns.Msg)
	probe.SetQuestion("ns1.pool.ntp.test.", dns.TypeA)
	wait.For(t, 10*time.Second, "unbound answering", func() bool {
		select {
		case <-exited:
			t.Fatalf("unbound exited: %s", strings.TrimSpace(out.String()))
		default:
		}
		r, _, err := c.Exchange(probe, addr)
		return err == nil && r.Rcode == dns.RcodeSuccess
	})
	return addr
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
