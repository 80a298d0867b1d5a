package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"
)

// runQuery asks one DNS server for a name's addresses, like
// "dig @server name", so the pool can be tried on a machine without dig.
func runQuery(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	fs := newFlagSet("query [flags] NAME", "Asks a DNS server (the dev pool's CoreDNS by default) for NAME's IPv4 and IPv6\naddresses and prints them, one a line.", errOut)
	server := fs.String("server", e.str("NTPPOOL_DNS_SERVER", "127.0.0.1:1053"), "DNS server host:port (env NTPPOOL_DNS_SERVER)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := parse(fs, e, args, 1); err != nil {
		return err
	}
	if _, err := netip.ParseAddrPort(*server); err != nil {
		return fmt.Errorf("query: -server %q: want an address and a port (127.0.0.1:1053)", *server)
	}
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, *server)
	}}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	ips, err := r.LookupNetIP(ctx, "ip", fs.Arg(0))
	if err != nil {
		return fmt.Errorf("query %s at %s: %w", fs.Arg(0), *server, err)
	}
	for _, ip := range ips {
		fmt.Fprintln(out, ip.Unmap())
	}
	return nil
}
