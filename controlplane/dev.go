package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ntppool-ng/ntppool/controlplane/alert"
	"github.com/ntppool-ng/ntppool/controlplane/api"
	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/ntpserver"
)

const (
	devMonitorName = "local"
	devAdminEmail  = "admin@pool.ntp.test"
)

// devFlags are dev's own flags besides the shared ones.
type devFlags struct {
	data, etcdListen, etcdPeer string
	monitorBin, corednsBin     string
	dnsListen                  string
	demo                       bool
	demoServers                int
}

// fastRules is the one-command pool's clock: the production rules with
// every interval shortened, so a new server reaches the DNS within a
// minute, and the loopback-hostile selection constraints off.
func fastRules(c *appConfig) {
	c.Score = score.DefaultConfig()
	a := assign.Local()
	a.ActiveInterval, a.ActiveTestingInterval, a.TestingInterval, a.SlowInterval = 2*time.Second, 2*time.Second, 2*time.Second, 2*time.Second
	a.MinRescore = time.Second
	a.Reevaluate, a.ReevaluateAfterChange = 5*time.Second, 10*time.Second
	a.MinPointsTesting, a.MinPointsActive = 3, 6
	a.HealthWindow = 10 * time.Minute
	c.Assign = a
	// Alert thresholds stay in days; only the jobs run often.
	c.Alert = alert.DefaultConfig()
	c.Alert.CheckEvery, c.Alert.RemoveEvery = 30*time.Second, time.Minute
	c.ZoneCountsEvery = time.Minute
	c.API = api.Config{Samples: 3, Spacing: 200 * time.Millisecond, Timeout: time.Second, IdlePoll: 2 * time.Second}
	c.Tick = time.Second
	c.Recheck = 2 * time.Second
	c.Debounce = 20 * time.Millisecond
	// A shorter lease would only speed up a restart after SIGKILL, and on
	// a loaded laptop it can lapse between keep-alives.
	c.LeaseTTL = 10 * time.Second
	c.CheckTime = time.Second
}

func runDev(ctx context.Context, args []string, out, errOut io.Writer) error {
	e := &env{}
	var c common
	var d devFlags
	fs := newFlagSet("dev [flags]", "Runs a whole pool on this machine: embedded etcd, the control plane with its web\nUI and monitor API, one local monitor, CoreDNS with ntppool answering for the\npool zone, and (with -demo) a few demo NTP servers on 127.0.0.x. Everything is\nkept in -data, so a restart keeps accounts, servers and scores. Runs on a fast\nclock: probes every few seconds, so a new server reaches the DNS within a minute.", errOut)
	addCommon(fs, e, &c, "", true)
	fs.StringVar(&d.data, "data", e.str("NTPPOOL_DATA", "data"), "data directory: database, etcd, tokens, logs (env NTPPOOL_DATA)")
	fs.StringVar(&d.etcdListen, "etcd-listen", e.str("NTPPOOL_ETCD_LISTEN", "127.0.0.1:2379"), "embedded etcd client address (env NTPPOOL_ETCD_LISTEN)")
	fs.StringVar(&d.etcdPeer, "etcd-peer", e.str("NTPPOOL_ETCD_PEER", "127.0.0.1:2380"), "embedded etcd peer address (env NTPPOOL_ETCD_PEER)")
	fs.StringVar(&d.monitorBin, "monitor-bin", e.str("NTPPOOL_MONITOR_BIN", "bin/monitor"), "monitor agent binary; empty: no monitor (env NTPPOOL_MONITOR_BIN)")
	fs.StringVar(&d.corednsBin, "coredns-bin", e.str("NTPPOOL_COREDNS_BIN", "bin/coredns"), "CoreDNS binary with ntppool; empty: no DNS (env NTPPOOL_COREDNS_BIN)")
	fs.StringVar(&d.dnsListen, "dns-listen", e.str("NTPPOOL_DNS_LISTEN", "127.0.0.1:1053"), "where CoreDNS answers (env NTPPOOL_DNS_LISTEN)")
	fs.BoolVar(&d.demo, "demo", e.boolean("NTPPOOL_DEMO", true), "start demo NTP servers on 127.0.0.11... and register them (env NTPPOOL_DEMO)")
	fs.IntVar(&d.demoServers, "demo-servers", e.integer("NTPPOOL_DEMO_SERVERS", 4), "how many demo servers (env NTPPOOL_DEMO_SERVERS)")
	if err := parse(fs, e, args, 0); err != nil {
		return err
	}
	if err := c.finish(); err != nil {
		return err
	}
	fastRules(&c.app)
	// A local pool has no relay: its log file (0600, in -data) is where
	// confirmation and reset links are read.
	c.app.Mail.LogBodies = true
	c.app.Election = "/ntppool-control/leader"
	if c.db == "" {
		c.db = filepath.Join(d.data, "ntppool.db")
	}
	if err := os.MkdirAll(d.data, 0o700); err != nil {
		return fmt.Errorf("dev: data directory: %w", err)
	}
	// It holds the admin password, the monitor token and mails with links:
	// this user's only, even when an older run made it open.
	if err := os.Chmod(d.data, 0o700); err != nil {
		return fmt.Errorf("dev: data directory: %w", err)
	}
	logFile, err := os.OpenFile(filepath.Join(d.data, "controlplane.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("dev: log file: %w", err)
	}
	defer logFile.Close()
	log, err := newLogger(io.MultiWriter(logFile, levelFilter{errOut}), c.logLevel, c.logFormat)
	if err != nil {
		return err
	}

	// etcd logs its own orderly shutdown at level error; keep the terminal
	// for the banner and our own warnings (etcd failures reach us as client
	// errors anyway).
	etcd, err := embedetcd.Start(embedetcd.Config{Dir: filepath.Join(d.data, "etcd"), ClientAddr: d.etcdListen,
		PeerAddr: d.etcdPeer, LogLevel: "fatal"})
	if err != nil {
		return fmt.Errorf("dev: %w (is another pool running? see -etcd-listen)", err)
	}
	defer etcd.Stop()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.Endpoint()}, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := privateDBFile(c.db, log); err != nil {
		return err
	}
	st, err := store.Open(ctx, c.db)
	if err != nil {
		return err
	}
	defer st.Close()

	boot, err := bootstrap(ctx, st, d.data)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, c.app, st, cli, log)
	if err != nil {
		return err
	}
	ln, err := a.listen()
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	appDone := make(chan error, 1)
	go func() { appDone <- a.run(runCtx, ln) }()

	if d.demo {
		stop, err := startDemo(ctx, a, boot.adminAccount, d.demoServers, c.app.NTPPort, log)
		if err != nil {
			log.Warn("dev: demo servers not started", "err", err)
		}
		defer stop()
	}
	apiURL := "http://" + ln.Addr().String() + "/"
	// The children stop first on the way out (kidsCtx), while the control
	// plane and etcd they talk to still run.
	kidsCtx, stopKids := context.WithCancel(context.Background())
	defer stopKids()
	var kids []*child
	stopAll := func() {
		stopKids()
		for _, k := range kids {
			k.wait()
		}
		cancel()
	}
	if d.monitorBin != "" {
		k, err := startChild(kidsCtx, "monitor", d.monitorBin, filepath.Join(d.data, "monitor.log"),
			"-api-url", apiURL, "-token-file", boot.tokenFile, "-state-dir", filepath.Join(d.data, "monitor"),
			"-allow-private", "-skip-clock-check", "-metrics-listen", "", "-ntp-port", fmt.Sprint(c.app.NTPPort))
		if err != nil {
			log.Warn("dev: monitor not started: build it with: go build -o bin/ ./monitor", "err", err)
		} else {
			kids = append(kids, k)
		}
	}
	if d.corednsBin != "" {
		conf, err := writeCorefile(d.data, c.app.PoolZone, d.dnsListen, etcd.Endpoint(), c.app.Prefix)
		if err == nil {
			var k *child
			k, err = startChild(kidsCtx, "coredns", d.corednsBin, filepath.Join(d.data, "coredns.log"), "-conf", conf)
			if err == nil {
				kids = append(kids, k)
			}
		}
		if err != nil {
			log.Warn("dev: CoreDNS not started: build it with: go build -o bin/ ./plugin/coredns", "err", err)
		}
	}
	host, port := splitHostPort(d.dnsListen)
	// The "try" line works on a fresh machine: this binary asks the DNS
	// itself; dig may not be installed yet.
	fmt.Fprintf(out, `
ntppool: a whole pool is running on this machine (data in %s)
  web UI       %s
  admin        %s  password %s
  monitor API  %smonitor/v1/  (monitor %q, log %s)
  etcd         %s  (records under %s)
  DNS          %s  (CoreDNS, log %s)
  try          %s query -server %s %s
               (or: dig @%s -p %s %s)
Demo servers reach the DNS within about a minute. Ctrl-C stops everything.
`, d.data, apiURL, devAdminEmail, boot.adminPassword, apiURL, devMonitorName, filepath.Join(d.data, "monitor.log"),
		etcd.Endpoint(), c.app.Prefix, d.dnsListen, filepath.Join(d.data, "coredns.log"), os.Args[0], d.dnsListen, c.app.PoolZone, host, port, c.app.PoolZone)

	select {
	case <-ctx.Done(): // SIGTERM or SIGINT (main)
	case err = <-appDone:
		stopAll()
		return err
	}
	stopAll()
	return <-appDone
}

// levelFilter passes only warnings and errors of the text log to the
// terminal, which shows the banner; everything goes to the log file.
type levelFilter struct{ w io.Writer }

func (l levelFilter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "level=WARN") || strings.Contains(string(p), "level=ERROR") ||
		strings.Contains(string(p), `"level":"WARN"`) || strings.Contains(string(p), `"level":"ERROR"`) {
		return l.w.Write(p)
	}
	return len(p), nil
}

func splitHostPort(hp string) (string, string) {
	ap, err := netip.ParseAddrPort(hp)
	if err != nil {
		return hp, "53"
	}
	return ap.Addr().String(), fmt.Sprint(ap.Port())
}

// devBoot is what the first start created (and later starts find again).
type devBoot struct {
	adminAccount  int64
	adminPassword string
	tokenFile     string
}

// bootstrap creates, on first start, the admin user (password kept in
// data/admin-password) and the local monitor (token in data/monitor.token);
// later starts find them again.
func bootstrap(ctx context.Context, st *store.Store, data string) (devBoot, error) {
	var b devBoot
	pwFile := filepath.Join(data, "admin-password")
	u, err := st.UserByEmail(ctx, devAdminEmail)
	switch {
	case errors.Is(err, store.ErrNotFound):
		pw, err := createUser(ctx, st, devAdminEmail, "", true)
		if err != nil {
			return b, err
		}
		if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
			return b, err
		}
		if u, err = st.UserByEmail(ctx, devAdminEmail); err != nil {
			return b, err
		}
	case err != nil:
		return b, err
	}
	b.adminAccount = u.AccountID
	if pw, err := os.ReadFile(pwFile); err == nil {
		b.adminPassword = strings.TrimSpace(string(pw))
	} else {
		b.adminPassword = "(set at first start; see " + pwFile + ")"
	}

	b.tokenFile = filepath.Join(data, "monitor.token")
	_, tokErr := os.Stat(b.tokenFile)
	m, err := st.MonitorByName(ctx, devMonitorName)
	switch {
	case errors.Is(err, store.ErrNotFound):
		tok, err := createMonitor(ctx, st, store.Monitor{Name: devMonitorName, Location: "this machine",
			IP4: netip.MustParseAddr("127.0.0.1"), State: store.MonitorActive})
		if err != nil {
			return b, err
		}
		return b, os.WriteFile(b.tokenFile, []byte(tok+"\n"), 0o600)
	case err != nil:
		return b, err
	case tokErr != nil:
		// The token file is gone: issue a new token.
		tok := newToken()
		if err := st.SetMonitorToken(ctx, m.ID, store.HashToken(tok)); err != nil {
			return b, err
		}
		return b, os.WriteFile(b.tokenFile, []byte(tok+"\n"), 0o600)
	}
	return b, nil
}

// demoServer is one demo NTP server's address and what it registers with.
var demoServers = []struct {
	country  string
	netspeed int64
}{{"de", 25000}, {"us", 12000}, {"gb", 3000}, {"jp", 1500}, {"fr", 6000}, {"br", 1500}, {"au", 3000}, {"za", 512}}

// startDemo runs n NTP servers on 127.0.0.11... (port ntpPort) and
// registers those not registered yet, verified: they run on this machine,
// and their net speeds are above what an unverified server may start at.
// stop closes them.
func startDemo(ctx context.Context, a *app, account int64, n int, ntpPort uint16, log *slog.Logger) (func(), error) {
	var srvs []*ntpserver.Server
	stop := func() {
		for _, s := range srvs {
			s.Close()
		}
	}
	var errs []error
	for i := range min(n, len(demoServers)) {
		ip := netip.AddrFrom4([4]byte{127, 0, 0, byte(11 + i)})
		s, err := ntpserver.Listen(netip.AddrPortFrom(ip, ntpPort).String(), ntpserver.Config{})
		if err != nil {
			errs = append(errs, fmt.Errorf("%w (port %d needs root; or pass -ntp-port 12300)", err, ntpPort))
			continue
		}
		srvs = append(srvs, s)
		speed := demoServers[i].netspeed
		_, err = a.reg.Register(ctx, account, registry.Input{Address: ip.String(), Netspeed: &speed, Country: demoServers[i].country,
			Verified: true})
		if fe, ok := errors.AsType[*registry.FieldError](err); ok && fe.Code == registry.CodeRegistered {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("register %s: %w", ip, err))
			continue
		}
		log.Info("dev: demo server registered", "ip", ip, "country", demoServers[i].country)
	}
	return stop, errors.Join(errs...)
}
