package clientip

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClient(t *testing.T) {
	t.Parallel()
	p := Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		peer, xff, want string
	}{
		{"192.0.2.1:5000", "", "192.0.2.1"},
		{"192.0.2.1:5000", "198.51.100.9", "192.0.2.1"},   // untrusted peer: header ignored
		{"10.0.0.1:5000", "", "10.0.0.1"},                 // trusted peer, no header
		{"10.0.0.1:5000", "198.51.100.9", "198.51.100.9"}, // one proxy
		{"10.0.0.1:5000", "203.0.113.5, 198.51.100.9", "198.51.100.9"},
		{"10.0.0.1:5000", "203.0.113.5, 198.51.100.9, 10.0.0.2", "198.51.100.9"}, // two proxies
		{"10.0.0.1:5000", "10.9.9.9, 10.0.0.2", "10.9.9.9"},                      // all trusted: the leftmost
		{"10.0.0.1:5000", "garbage, 198.51.100.9", "198.51.100.9"},
		{"10.0.0.1:5000", "198.51.100.9, garbage", "10.0.0.1"}, // unreadable hop: the proxy itself
		{"10.0.0.1:5000", "[2001:db8::7]:443", "2001:db8::7"},
		{"[fd00::1]:5000", "2001:db8::7", "2001:db8::7"},
		{"[::ffff:10.0.0.1]:5000", "198.51.100.9", "198.51.100.9"},
		{"[fe80::1%eth0]:5000", "", "fe80::1"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := p.Client(r); got != netip.MustParseAddr(tc.want) {
			t.Errorf("peer %s, X-Forwarded-For %q: client %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	// Without trusted proxies the header never counts.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.9")
	if got := Proxies(nil).Client(r); got != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("no trusted proxies: client %s", got)
	}
}
