// Package clientip finds the address of the client behind an HTTP request:
// the TCP peer, or, when the peer is a trusted reverse proxy, the address
// it names in X-Forwarded-For. The web site (rate limits, claim
// verification) and the monitor API (registered-address check) both use it,
// so they agree on who is calling.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the trusted reverse proxies' address ranges. Empty: the TCP
// peer is the client and X-Forwarded-For is ignored.
type Proxies []netip.Prefix

// Client is the address of the client that sent r. When the peer is not a
// trusted proxy it is the peer. Otherwise X-Forwarded-For is read from the
// right: each hop a trusted proxy appended is skipped, and the first
// address not in a trusted range is the client (anything left of it was
// written by the client itself and is ignored). A header that cannot be
// parsed leaves the last trusted hop as the client, which only makes its
// clients share one identity. Invalid when the peer is unknown.
func (p Proxies) Client(r *http.Request) netip.Addr {
	peer := Peer(r)
	if !p.Trusts(peer) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		list := hops[i]
		for list != "" {
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				hop, list = list[j+1:], list[:j]
			} else {
				hop, list = list, ""
			}
			a, ok := parseHop(hop)
			if !ok {
				return client
			}
			client = a
			if !p.Trusts(a) {
				return a
			}
		}
	}
	return client
}

// Trusts reports whether a is in a trusted proxy range.
func (p Proxies) Trusts(a netip.Addr) bool {
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// Peer is the TCP peer of r, unmapped and without zone (invalid when
// unknown).
func Peer(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap().WithZone("")
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with
// a port ("192.0.2.1:5000", "[2001:db8::1]:5000").
func parseHop(h string) (netip.Addr, bool) {
	h = strings.TrimSpace(h)
	if len(h) > 64 {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}
