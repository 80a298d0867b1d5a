package monitorapi

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// A config without addresses leaves them out; with them, each family's
// address and flag round-trip.
func TestConfigAddressesRoundTrip(t *testing.T) {
	b, err := json.Marshal(Config{IPv4: true})
	if err != nil || strings.Contains(string(b), `"ip4"`) || strings.Contains(string(b), `"ip6"`) || !strings.Contains(string(b), `"ipv4":true`) {
		t.Fatalf("%s %v", b, err)
	}
	in := Config{IPv4: true, IPv6: true, IP4: netip.MustParseAddr("192.0.2.1"), IP6: netip.MustParseAddr("2001:db8::1"),
		Score: ScoreOptions{LeapUnsyncIsError: true, RampWidth: 5, RampFloor: 0.1}, Spacing: Duration(2 * time.Second)}
	b, _ = json.Marshal(in)
	var out Config
	if err := json.Unmarshal(b, &out); err != nil || out.IP4 != in.IP4 || out.IP6 != in.IP6 || !out.IPv6 || out.Score != in.Score || out.Spacing != in.Spacing {
		t.Fatalf("%s -> %+v %v", b, out, err)
	}
}

func TestDefaultProbeIsThePools(t *testing.T) {
	d := DefaultProbe()
	if d.Samples != 3 || d.Spacing != 2*time.Second || d.Timeout != 3*time.Second || d.BaseMaxOffset != 10*time.Millisecond || d.BaseCheckTTL != 3*time.Minute {
		t.Errorf("%+v", d)
	}
}
