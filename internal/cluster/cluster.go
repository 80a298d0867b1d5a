// Package cluster runs a fault-tolerant ntppool on loopback, every part in
// its own process so any one can be killed: three etcd members
// (internal/etcdnode), two control planes ("controlplane serve") on one
// store, and three CoreDNS with ntppool reading all three members. Run
// (scenario.go) puts it under DNS and monitor load and kills, one at a
// time, the leading control plane, the etcd leader and one CoreDNS,
// measuring what each costs. scripts/cluster starts it by hand; its test
// drives it.
//
// The store is an SQLite file both control planes open; Config.DB takes any
// DSN "controlplane serve -db" takes, so a PostgreSQL cluster is one line.
package cluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/wait"
)

// Config shapes the cluster; zero fields take the defaults noted.
type Config struct {
	// Dir holds binaries, data and logs (required).
	Dir string
	// DB is the control planes' store: a file path or a postgres:// DSN
	// (Dir/ntppool.db).
	DB string
	// LeaseTTL is the control plane's leader lease (2s).
	LeaseTTL time.Duration
	// Servers and Monitors seeded in the store (6 and 4; at most 7 servers,
	// so every answer holds them all); every monitor watches every server.
	Servers, Monitors int
	// Log gets progress lines (none when nil).
	Log io.Writer
}

// TicketKey is the control planes' shared ticket key, so the load
// generator can sign its own work.
const TicketKey = "cluster-ticket-key-0123456789abcdef0123"

// Zone is the pool zone CoreDNS serves.
const Zone = "pool.ntp.test"

// Proc is one process of the cluster.
type Proc struct {
	Name string
	Addr string // client address: etcd client, control plane HTTP, CoreDNS UDP
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Alive reports whether the process still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Kill kills the process with SIGKILL and waits for it.
func (p *Proc) Kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Monitor is a seeded monitor: its id and bearer token.
type Monitor struct {
	ID    int64
	Token string
}

// Cluster is the running processes and the seeded data.
type Cluster struct {
	cfg      Config
	bin      string
	Etcd     []*Proc
	CP       []*Proc
	DNS      []*Proc
	Servers  []netip.Addr // published (score 20)
	Flip     netip.Addr   // watched by Flipper only: Run moves its score across 10
	Monitors []Monitor    // each watches every server in Servers
	Flipper  Monitor
}

func (c *Cluster) logf(format string, args ...any) {
	if c.cfg.Log != nil {
		fmt.Fprintf(c.cfg.Log, format+"\n", args...)
	}
}

// Start builds the binaries (go build, from the module containing this
// package) and starts every process, returning once all serve. Stop ends
// them; they also die with the calling process (Pdeathsig).
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Dir == "" {
		return nil, errors.New("cluster: Config.Dir is required")
	}
	if cfg.DB == "" {
		cfg.DB = filepath.Join(cfg.Dir, "ntppool.db")
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 2 * time.Second
	}
	if cfg.Servers <= 0 {
		cfg.Servers = 6
	}
	if cfg.Monitors <= 0 {
		cfg.Monitors = 4
	}
	if cfg.Servers > 7 {
		return nil, errors.New("cluster: at most 7 servers (every answer must hold them all and the flip server)")
	}
	c := &Cluster{cfg: cfg, bin: filepath.Join(cfg.Dir, "bin")}
	for _, d := range []string{c.bin, filepath.Join(cfg.Dir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	if err := c.build(ctx); err != nil {
		return nil, err
	}
	if err := c.seed(ctx); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			c.Stop()
		}
	}()
	if err := c.startEtcd(ctx); err != nil {
		return nil, err
	}
	if err := c.startControlPlanes(ctx); err != nil {
		return nil, err
	}
	if err := c.startCoreDNS(ctx); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// Stop ends every process still running.
func (c *Cluster) Stop() {
	for _, group := range [][]*Proc{c.DNS, c.CP, c.Etcd} {
		for _, p := range group {
			if p.Alive() {
				p.cmd.Process.Signal(syscall.SIGTERM)
			}
		}
		for _, p := range group {
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				p.Kill()
			}
		}
	}
}

// EtcdEndpoints are the members' client URLs.
func (c *Cluster) EtcdEndpoints() []string {
	var out []string
	for _, p := range c.Etcd {
		out = append(out, "http://"+p.Addr)
	}
	return out
}

func (c *Cluster) build(ctx context.Context) error {
	root, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("cluster: go env GOMOD: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", c.bin+"/", "./plugin/coredns", "./controlplane", "./internal/etcdnode")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cluster: go build: %w\n%s", err, out)
	}
	return nil
}

// seed creates the servers and monitors (every monitor on every server,
// active; the flipper on the flip server alone) in a fresh store.
func (c *Cluster) seed(ctx context.Context) error {
	st, err := store.Open(ctx, c.cfg.DB)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer st.Close()
	now := time.Now()
	var ids []int64
	for i := range c.cfg.Servers + 1 {
		ip := netip.AddrFrom4([4]byte{127, 10, 0, byte(1 + i)})
		id, err := st.CreateServer(ctx, store.Server{IP: ip, Netspeed: 1000, Country: "de", InPool: true, Score: 20})
		if err != nil {
			return fmt.Errorf("cluster: seed server: %w", err)
		}
		if err := st.SetServerScore(ctx, id, 20, now); err != nil {
			return fmt.Errorf("cluster: seed score: %w", err)
		}
		if i == c.cfg.Servers {
			c.Flip = ip
		} else {
			c.Servers = append(c.Servers, ip)
		}
		ids = append(ids, id)
	}
	pair := func(name string, sids ...int64) (Monitor, error) {
		tok := rand.Text()
		id, err := st.CreateMonitor(ctx, store.Monitor{Name: name, TokenHash: store.HashToken(tok), State: store.MonitorActive})
		if err != nil {
			return Monitor{}, fmt.Errorf("cluster: seed monitor: %w", err)
		}
		for _, sid := range sids {
			if _, err := st.AddMonitorServer(ctx, id, sid, store.PairActive, now); err != nil {
				return Monitor{}, fmt.Errorf("cluster: seed pair: %w", err)
			}
		}
		return Monitor{ID: id, Token: tok}, nil
	}
	for i := range c.cfg.Monitors {
		m, err := pair(fmt.Sprint("m", i), ids[:len(ids)-1]...)
		if err != nil {
			return err
		}
		c.Monitors = append(c.Monitors, m)
	}
	c.Flipper, err = pair("flipper", ids[len(ids)-1])
	return err
}

func freeAddr(network string) (string, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("cluster: free port: %w", err)
		}
		addr := l.Addr().String()
		if network != "udp" {
			l.Close()
			return addr, nil
		}
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			u.Close()
			return addr, nil
		}
	}
	return "", errors.New("cluster: no port free for both TCP and UDP")
}

// start runs bin/name with args, output to logs/proc.log.
func (c *Cluster) start(proc, name, addr string, env []string, args ...string) (*Proc, error) {
	logPath := filepath.Join(c.cfg.Dir, "logs", proc+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("cluster: start %s: %w", proc, err)
	}
	p := &Proc{Name: proc, Addr: addr, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// ready polls ok until it holds, p dies or 60 s pass.
func ready(ctx context.Context, p *Proc, ok func() bool) error {
	wait.Until(60*time.Second, func() bool { return ctx.Err() != nil || !p.Alive() || ok() })
	switch {
	case !p.Alive():
		return fmt.Errorf("cluster: %s exited during start: %s", p.Name, p.logTail())
	case ctx.Err() != nil || !ok():
		return fmt.Errorf("cluster: %s not ready: %s", p.Name, p.logTail())
	}
	return nil
}

// logTail is the end of the process's log.
func (p *Proc) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return p.log + ":\n" + string(b)
}

func dials(addr string) func() bool {
	return func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}
}

func (c *Cluster) startEtcd(ctx context.Context) error {
	var peers, clients, names []string
	for i := range 3 {
		ca, err := freeAddr("tcp")
		if err != nil {
			return err
		}
		pa, err := freeAddr("tcp")
		if err != nil {
			return err
		}
		names = append(names, fmt.Sprint("etcd", i+1))
		clients, peers = append(clients, ca), append(peers, pa)
	}
	var initial []string
	for i := range names {
		initial = append(initial, names[i]+"=http://"+peers[i])
	}
	for i, n := range names {
		p, err := c.start(n, "etcdnode", clients[i], nil, "-name", n, "-dir", filepath.Join(c.cfg.Dir, n),
			"-client", clients[i], "-peer", peers[i], "-initial-cluster", strings.Join(initial, ","))
		if err != nil {
			return err
		}
		c.Etcd = append(c.Etcd, p)
	}
	for _, p := range c.Etcd {
		if err := ready(ctx, p, dials(p.Addr)); err != nil {
			return err
		}
	}
	c.logf("etcd: %s", strings.Join(c.EtcdEndpoints(), ","))
	return nil
}

func (c *Cluster) startControlPlanes(ctx context.Context) error {
	env := []string{"NTPPOOL_TICKET_KEY=" + TicketKey, "NTPPOOL_METRICS_LISTEN="}
	for i := range 2 {
		addr, err := freeAddr("tcp")
		if err != nil {
			return err
		}
		name := fmt.Sprint("controlplane", i+1)
		p, err := c.start(name, "controlplane", addr, env, "serve", "-db", c.cfg.DB, "-listen", addr,
			"-etcd-endpoints", strings.Join(c.EtcdEndpoints(), ","), "-lease-ttl", c.cfg.LeaseTTL.String(),
			"-zone", Zone, "-allow-private", "-log-level", "warn")
		if err != nil {
			return err
		}
		c.CP = append(c.CP, p)
	}
	for _, p := range c.CP {
		if err := ready(ctx, p, dials(p.Addr)); err != nil {
			return err
		}
		c.logf("control plane: http://%s/ (pid %d)", p.Addr, p.Pid())
	}
	return nil
}

func (c *Cluster) startCoreDNS(ctx context.Context) error {
	for i := range 3 {
		addr, err := freeAddr("udp")
		if err != nil {
			return err
		}
		ap := netip.MustParseAddrPort(addr)
		name := fmt.Sprint("coredns", i+1)
		conf := fmt.Sprintf(`%s:%d {
    bind %s
    ntppool {
        endpoint %s
        records 8
        ns ns1.%s %s
    }
}
`, Zone, ap.Port(), ap.Addr(), strings.Join(c.EtcdEndpoints(), " "), Zone, ap.Addr())
		path := filepath.Join(c.cfg.Dir, name+".Corefile")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		p, err := c.start(name, "coredns", addr, nil, "-conf", path)
		if err != nil {
			return err
		}
		c.DNS = append(c.DNS, p)
	}
	for _, p := range c.DNS {
		if err := ready(ctx, p, func() bool { return len(query(p.Addr, time.Second)) > 0 }); err != nil {
			return err
		}
		c.logf("CoreDNS: %s", p.Addr)
	}
	return nil
}
