package ntppool

import (
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
		{"ntppool {\n ns a.example.org B.example.org.\n}", "", func(c Config) bool {
			return len(c.NS) == 2 && c.NS[0] == "a.example.org." && c.NS[1] == "b.example.org."
		}},
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
			c := caddy.NewTestController("dns", tc.input)
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

func TestSetupRegisters(t *testing.T) {
	c := caddy.NewTestController("dns", "ntppool {\n endpoint http://127.0.0.1:1\n}")
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
