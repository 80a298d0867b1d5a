package ntppool

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
)

func TestParse(t *testing.T) {
	tests := []struct {
		input     string
		shouldErr string // "" means success
		check     func(Config) bool
	}{
		{"ntppool", "", func(c Config) bool {
			return c.TTL == 150 && c.Records == 4 && c.Prefix == "/ntppool/" && c.Endpoints[0] == defaultEndpoint &&
				c.Period == time.Hour && !c.AAAAAll && !c.Fill && c.GeoIPPath == "" && c.Origins[0] == "pool.ntp.test."
		}},
		{"ntppool Pool.NTP.Test example.org", "", func(c Config) bool {
			return len(c.Origins) == 2 && c.Origins[0] == "pool.ntp.test." && c.Origins[1] == "example.org."
		}},
		{"ntppool {\n endpoint http://10.0.0.1:2379 http://10.0.0.2:2379\n}", "", func(c Config) bool { return len(c.Endpoints) == 2 }},
		{"ntppool {\n credentials user secret\n}", "", func(c Config) bool { return c.Username == "user" && c.Password == "secret" }},
		{"ntppool {\n tls\n}", "", func(c Config) bool { return c.TLS != nil }},
		{"ntppool {\n path /other\n}", "", func(c Config) bool { return c.Prefix == "/other/" }},
		{"ntppool {\n geoip " + testGeoDB + "\n}", "", func(c Config) bool { return c.GeoIPPath == testGeoDB }},
		{"ntppool {\n geoip testdata/GeoIP2-City-Test.mmdb\n}", "", func(c Config) bool { return c.GeoIPPath != "" }},
		{"ntppool {\n ttl 60\n}", "", func(c Config) bool { return c.TTL == 60 }},
		{"ntppool {\n ttl 5m\n}", "", func(c Config) bool { return c.TTL == 300 }},
		{"ntppool {\n records 6\n}", "", func(c Config) bool { return c.Records == 6 }},
		{"ntppool {\n ns a.example.org\n ns B.example.org.\n}", "", func(c Config) bool {
			return slices.Equal(c.NS, []string{"a.example.org.", "b.example.org."}) && c.NSAddrs == nil
		}},
		{"ntppool {\n ns NS1.pool.ntp.test 192.0.2.53 2001:db8::53 ::ffff:192.0.2.54\n ns ns2.example.org\n ns ns3.sub.pool.ntp.test 2001:db8::3\n}", "", func(c Config) bool {
			return slices.Equal(c.NS, []string{"ns1.pool.ntp.test.", "ns2.example.org.", "ns3.sub.pool.ntp.test."}) &&
				len(c.NSAddrs) == 2 && fmt.Sprint(c.NSAddrs["ns1.pool.ntp.test."]) == "[192.0.2.53 2001:db8::53 192.0.2.54]" &&
				fmt.Sprint(c.NSAddrs["ns3.sub.pool.ntp.test."]) == "[2001:db8::3]"
		}},
		{"ntppool {\n fallthrough\n}", "", func(c Config) bool { return slices.Equal(c.Fall.Zones, []string{"."}) }},
		{"ntppool {\n fallthrough www.pool.ntp.test Example.org\n}", "", func(c Config) bool {
			return slices.Equal(c.Fall.Zones, []string{"www.pool.ntp.test.", "example.org."})
		}},
		{"ntppool {\n ns a.example.org\n}", "", func(c Config) bool { return len(c.Fall.Zones) == 0 }},
		{"ntppool {\n contact ops@example.org\n}", "", func(c Config) bool { return c.Contact == "ops.example.org." }},
		{"ntppool {\n contact ops.example.org\n}", "", func(c Config) bool { return c.Contact == "ops.example.org." }},
		{"ntppool {\n period 10m\n}", "", func(c Config) bool { return c.Period == 10*time.Minute }},
		{"ntppool {\n startup_timeout 1s\n}", "", func(c Config) bool { return c.StartupTimeout == time.Second }},
		{"ntppool {\n aaaa_all\n}", "", func(c Config) bool { return c.AAAAAll }},
		{"ntppool {\n fill\n}", "", func(c Config) bool { return c.Fill }},

		// Bad lines name themselves.
		{"ntppool {\n endpoint\n}", "Wrong argument count", nil},
		{"ntppool {\n credentials user\n}", "credentials needs 2 arguments", nil},
		{"ntppool {\n tls a b c d\n}", "Wrong argument count", nil},
		{"ntppool {\n tls /nonexistent/cert /nonexistent/key\n}", "tls:", nil},
		{"ntppool {\n path relative\n}", "must start with /", nil},
		{"ntppool {\n geoip\n}", "Wrong argument count", nil},
		{"ntppool {\n geoip /nonexistent.mmdb\n}", "geoip /nonexistent.mmdb", nil},
		{"ntppool {\n geoip testdata/LICENSE-MIT\n}", "geoip testdata/LICENSE-MIT", nil},
		{"ntppool {\n ttl 10\n}", "below the minimum", nil},
		{"ntppool {\n ttl soon\n}", "bad duration", nil},
		{"ntppool {\n ttl\n}", "Wrong argument count", nil},
		{"ntppool {\n records 0\n}", "want a number from 1", nil},
		{"ntppool {\n records 99\n}", "want a number from 1", nil},
		{"ntppool {\n records four\n}", "want a number from 1", nil},
		{"ntppool {\n ns\n}", "Wrong argument count", nil},
		{"ntppool {\n ns bad..name\n}", "not a domain name", nil},
		{"ntppool {\n ttl 60\n}", "no name server", nil},
		{"ntppool {\n ns ns1.pool.ntp.test\n}", "ns ns1.pool.ntp.test. is inside zone pool.ntp.test. but has no address", nil},
		{"ntppool {\n ns ns1.Pool.NTP.test\n}", "has no address", nil},
		{"ntppool {\n ns a.example.org b.example.org\n}", `"b.example.org" is not an IP address`, nil},
		{"ntppool {\n ns ns1.pool.ntp.test 192.0.2.300\n}", "is not an IP address", nil},
		{"ntppool {\n ns ns1.pool.ntp.test fe80::1%eth0\n}", "is not an IP address", nil},
		{"ntppool {\n ns a.example.org 192.0.2.1\n}", "outside the zones", nil},
		{"ntppool {\n ns de.pool.ntp.test 192.0.2.1\n}", "a name the pool answers itself", nil},
		{"ntppool {\n ns 2.europe.pool.ntp.test 192.0.2.1\n}", "a name the pool answers itself", nil},
		{"ntppool {\n ns pool.ntp.test 192.0.2.1\n}", "a name the pool answers itself", nil},
		{"ntppool {\n ns _country.pool.ntp.test 192.0.2.1\n}", "a name the pool answers itself", nil},
		{"ntppool {\n ns a.example.org\n ns A.example.org\n}", "named twice", nil},
		{"ntppool {\n contact\n}", "Wrong argument count", nil},
		{"ntppool {\n period -1h\n}", "bad duration", nil},
		{"ntppool {\n startup_timeout x\n}", "bad duration", nil},
		{"ntppool {\n aaaa_all yes\n}", "Wrong argument count", nil},
		{"ntppool {\n fill 1\n}", "Wrong argument count", nil},
		{"ntppool {\n bogus\n}", `unknown property "bogus"`, nil},
		{"ntppool\nntppool", "plugin", nil},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.input, "\n", " "), func(t *testing.T) {
			input := tc.input
			if tc.shouldErr != "no name server" {
				input = withNS(input)
			}
			c := caddy.NewTestController("dns", input)
			c.ServerBlockKeys = []string{"pool.ntp.test:1053"}
			cfg, err := parse(c)
			if tc.shouldErr != "" {
				if err == nil {
					t.Fatalf("no error, want one containing %q", tc.shouldErr)
				}
				if !strings.Contains(err.Error(), tc.shouldErr) {
					t.Fatalf("error %q, want it to contain %q", err, tc.shouldErr)
				}
				if !strings.Contains(tc.input, "ntppool\nntppool") && !strings.Contains(err.Error(), "Testfile:") {
					t.Errorf("error %q does not name the line", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !tc.check(cfg) {
				t.Errorf("config %+v does not match", cfg)
			}
		})
	}
}

// withNS adds an ns line to a Corefile block that has none, as every block
// needs one.
func withNS(in string) string {
	if strings.Contains(in, "\n ns ") {
		return in
	}
	first, rest, _ := strings.Cut(in, "\n")
	if strings.HasSuffix(first, "{") {
		return first + "\n ns ns1.example.net\n" + rest
	}
	return first + " {\n ns ns1.example.net\n}\n" + rest
}

func TestSetupRegisters(t *testing.T) {
	c := caddy.NewTestController("dns", "ntppool {\n endpoint http://127.0.0.1:1\n ns ns1.example.net\n}")
	c.ServerBlockKeys = []string{"pool.ntp.test:1053"}
	if err := setup(c); err != nil {
		t.Fatal(err)
	}
	c = caddy.NewTestController("dns", "ntppool {\n ttl 1\n}")
	err := setup(c)
	if err == nil || !strings.Contains(err.Error(), "plugin/ntppool") {
		t.Errorf("error %v, want it wrapped with the plugin name", err)
	}
}
