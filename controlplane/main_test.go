package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestHelpExplainsEveryCommandAndFlag(t *testing.T) {
	out, _, err := runCmd(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"dev", "serve", "user create", "user role", "monitor create", "servers list", "monitors list", "vendor approve"} {
		if !strings.Contains(out, c) {
			t.Errorf("--help does not mention %q", c)
		}
	}
	for _, cmd := range [][]string{{"serve"}, {"dev"}, {"user", "create"}, {"user", "role"}, {"monitor", "create"}} {
		_, help, err := runCmd(t, append(cmd, "-help")...)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%v -help: %v", cmd, err)
		}
		if !strings.Contains(help, "env NTPPOOL_") {
			t.Errorf("%v -help names no environment variables:\n%s", cmd, help)
		}
	}
	_, help, _ := runCmd(t, "serve", "-help")
	for _, f := range []string{"-etcd-endpoints", "-etcd-cacert", "-etcd-user", "-etcd-password", "-db", "-lease-ttl", "-ticket-key", "-allow-private",
		"-base-servers", "-probe-samples", "-probe-spacing", "-probe-timeout", "-leap-unsync-is-error", "-ramp-width", "-ramp-floor",
		"-active-interval", "-testing-interval", "-slow-interval", "-idle-poll", "-base-max-offset", "-base-check-ttl", "-monitor-any-address"} {
		if !strings.Contains(help, f) {
			t.Errorf("serve -help lacks %s", f)
		}
	}
	if _, _, err := runCmd(t, "frobnicate"); err == nil {
		t.Error("unknown command accepted")
	}
}

func TestFlagDefaultsComeFromTheEnvironment(t *testing.T) {
	t.Setenv("NTPPOOL_RETENTION", "not-a-duration")
	if _, _, err := runCmd(t, "serve"); err == nil || !strings.Contains(err.Error(), "NTPPOOL_RETENTION") {
		t.Fatalf("a bad environment value: %v", err)
	}
}

func TestAdminCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "admin.db")
	out, _, err := runCmd(t, "user", "create", "-db", db, "-admin", "-email", "root@example.org")
	if err != nil || !strings.Contains(out, "password: ") {
		t.Fatalf("user create: %q %v", out, err)
	}
	pw := strings.TrimSpace(out[strings.Index(out, "password: ")+len("password: "):])
	if _, _, err := runCmd(t, "user", "create", "-db", db, "-email", "root@example.org"); err == nil {
		t.Fatal("a second user with the same e-mail was created")
	}
	out, _, err = runCmd(t, "monitor", "create", "-db", db, "-location", "Berlin", "berlin1")
	if err != nil || !strings.Contains(out, "token (shown only now): ") {
		t.Fatalf("monitor create: %q %v", out, err)
	}
	tok := strings.TrimSpace(out[strings.Index(out, "now): ")+len("now): "):])
	if _, _, err := runCmd(t, "monitor", "create", "-db", db, "-ip4", "2001:db8::1", "x"); err == nil {
		t.Fatal("an IPv6 address accepted as -ip4")
	}
	if out, _, err := runCmd(t, "monitor", "create", "-db", db, "-ip4", "192.0.2.7", "-ip6", "2001:db8::7", "dual1"); err != nil {
		t.Fatalf("monitor create dual-stack: %q %v", out, err)
	}
	out, _, err = runCmd(t, "monitors", "list", "-db", db)
	if err != nil || !strings.Contains(out, "berlin1") || !strings.Contains(out, "Berlin") || strings.Contains(out, tok) ||
		!strings.Contains(out, "192.0.2.7") || !strings.Contains(out, "2001:db8::7") {
		t.Fatalf("monitors list: %q %v", out, err)
	}
	if _, _, err := runCmd(t, "vendor", "approve", "-db", db, "nosuch"); err == nil {
		t.Fatal("approving an unknown vendor zone succeeded")
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.UserByEmail(context.Background(), "root@example.org")
	if err != nil || !u.IsAdmin || !u.CheckPassword(pw) {
		t.Fatalf("stored user %+v: %v", u, err)
	}
	m, err := st.MonitorByTokenHash(context.Background(), store.HashToken(tok))
	if err != nil || m.Name != "berlin1" || m.State != store.MonitorActive {
		t.Fatalf("the printed token does not find the monitor: %+v %v", m, err)
	}
	st.CreateVendorZone(context.Background(), store.VendorZone{Name: "acme"})
	st.Close()
	if out, _, err := runCmd(t, "vendor", "approve", "-db", db, "acme"); err != nil || !strings.Contains(out, "approved") {
		t.Fatalf("vendor approve: %q %v", out, err)
	}
	if out, _, err := runCmd(t, "servers", "list", "-db", db); err != nil || !strings.Contains(out, "SCORE") {
		t.Fatalf("servers list: %q %v", out, err)
	}

	// Roles: granted and revoked by e-mail, each change in the audit log.
	runCmd(t, "user", "create", "-db", db, "-email", "help@example.org")
	if out, _, err := runCmd(t, "user", "role", "-db", db, "help@example.org", "support"); err != nil || !strings.Contains(out, "support granted") {
		t.Fatalf("user role: %q %v", out, err)
	}
	runCmd(t, "user", "role", "-db", db, "help@example.org", "monitor-admin")
	runCmd(t, "user", "role", "-db", db, "-revoke", "help@example.org", "support")
	if _, _, err := runCmd(t, "user", "role", "-db", db, "help@example.org", "king"); err == nil {
		t.Fatal("unknown role granted")
	}
	if _, _, err := runCmd(t, "user", "role", "-db", db, "nobody@example.org", "support"); err == nil {
		t.Fatal("role granted to an unknown user")
	}
	st, _ = store.Open(context.Background(), db)
	defer st.Close()
	help, _ := st.UserByEmail(context.Background(), "help@example.org")
	log, _ := st.AuditLog(context.Background(), 10)
	if help.Has(store.RoleSupport) || !help.Has(store.RoleMonitorAdmin) || len(log) != 3 || log[0].Detail != "support revoked" || log[0].Actor != "cli" {
		t.Fatalf("roles %v, audit log %+v", help.Roles, log)
	}
}

// serve's monitor network flags reach the API config, the scoring and the
// intervals; bad values are refused.
func TestNetworkFlags(t *testing.T) {
	parse := func(args ...string) (appConfig, error) {
		e := &env{}
		fs := newFlagSet("serve", "", io.Discard)
		var nf networkFlags
		nf.add(fs, e)
		if err := fs.Parse(args); err != nil {
			return appConfig{}, err
		}
		var c appConfig
		productionRules(&c)
		return c, nf.apply(&c)
	}
	c, err := parse("-base-servers", "192.0.2.1:123, 192.0.2.2:123", "-probe-samples", "4", "-probe-spacing", "1s",
		"-probe-timeout", "2s", "-ramp-width", "5", "-leap-unsync-is-error=false", "-active-interval", "5m", "-monitor-any-address")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.API.BaseServers) != 2 || c.API.BaseServers[1] != "192.0.2.2:123" || c.API.Samples != 4 || c.API.Spacing != time.Second ||
		c.API.Timeout != 2*time.Second || c.Score.RampWidth != 5 || c.Score.RampFloor != 0.1 || c.Score.LeapUnsyncIsError ||
		c.Assign.ActiveInterval != 5*time.Minute || c.Assign.TestingInterval != 45*time.Minute || !c.API.AnyAddress {
		t.Errorf("config %+v", c)
	}
	if c, err := parse(); err != nil || c.API.Samples != 3 || c.API.BaseMaxOffset != 10*time.Millisecond || len(c.API.BaseServers) != 0 {
		t.Errorf("defaults: %+v %v", c.API, err)
	}
	for _, bad := range [][]string{{"-probe-samples", "0"}, {"-ramp-floor", "2"}, {"-ramp-width", "x"}, {"-probe-timeout", "0s"}, {"-slow-interval", "0s"}} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestFlagSetSeesOnlyGivenFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Bool("secure-cookies", false, "")
	fs.String("base-url", "", "")
	if err := fs.Parse([]string{"-base-url", "https://pool.example"}); err != nil {
		t.Fatal(err)
	}
	if flagSet(fs, "secure-cookies") || !flagSet(fs, "base-url") {
		t.Error("flagSet reports the wrong flags as given")
	}
}
