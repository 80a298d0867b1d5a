// Command loadtest measures the monitor agent under load: it starts N local
// NTP responders (internal/ntpserver, one per loopback address, one shared
// port), an in-memory control plane (monitor/internal/fakecp) handing each
// server out once per cycle, and the real agent binary as a child process,
// then reports probes per second, how late servers were handed out (the
// agent keeping up), and the agent's CPU use and resident memory from /proc.
//
//	go run ./monitor/loadtest -servers 5000 -cycle 1m -duration 3m
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ntppool-ng/ntppool/internal/ntpserver"
	"github.com/ntppool-ng/ntppool/monitor/internal/fakecp"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run() error {
	servers := flag.Int("servers", 5000, "NTP responders (each on its own 127.1.x.y address)")
	cycle := flag.Duration("cycle", time.Minute, "how often each server is handed out")
	duration := flag.Duration("duration", 3*time.Minute, "measured time, after the warm-up")
	warmup := flag.Duration("warmup", time.Minute, "time before measuring")
	samples := flag.Int("samples", 3, "queries per probe")
	spacing := flag.Duration("spacing", 2*time.Second, "pause between queries")
	timeout := flag.Duration("timeout", 3*time.Second, "timeout per query")
	batch := flag.Int("batch", 10, "servers per batch")
	concurrency := flag.Int("concurrency", 500, "agent -concurrency")
	silent := flag.Float64("silent", 0, "fraction of responders that never answer")
	burst := flag.Bool("burst", false, "make every server due at once at start (default: due times spread over the cycle)")
	agentBin := flag.String("agent", "", "agent binary (default: go build ./monitor)")
	extra := flag.String("agent-env", "", "extra environment for the agent, comma-separated K=V")
	flag.Parse()

	dir, err := os.MkdirTemp("", "monitor-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *agentBin == "" {
		*agentBin = filepath.Join(dir, "ntppool-monitor")
		if out, err := exec.Command("go", "build", "-o", *agentBin, "./monitor").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./monitor (run from the repository root): %v\n%s", err, out)
		}
	}

	addrs := make([]netip.Addr, *servers)
	cfgs := make([]ntpserver.Config, *servers)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{127, 1, byte(i / 250), byte(i%250 + 1)})
		if float64(i) < *silent*float64(*servers) {
			cfgs[i].Silent = true
		}
	}
	resp, err := ntpserver.ListenSamePort(addrs, cfgs)
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range resp {
			s.Close()
		}
	}()
	port := resp[0].Addr().Port()

	cfg := monitorapi.Config{MonitorID: 1, Name: "loadtest", Samples: *samples, Spacing: monitorapi.Duration(*spacing),
		Timeout: monitorapi.Duration(*timeout), BatchMax: *batch, IdlePoll: monitorapi.Duration(time.Second), AllowPrivate: true}
	cp := fakecp.New("load-token", cfg, addrs, *cycle)
	if !*burst {
		cp.SpreadDue()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: cp}
	go hs.Serve(ln)
	defer hs.Close()

	cmd := exec.Command(*agentBin)
	cmd.Env = append(os.Environ(), "NTPPOOL_MONITOR_API_URL=http://"+ln.Addr().String()+"/",
		"NTPPOOL_MONITOR_TOKEN=load-token", "NTPPOOL_MONITOR_STATE_DIR="+filepath.Join(dir, "state"),
		"NTPPOOL_MONITOR_ALLOW_PRIVATE=true", "NTPPOOL_MONITOR_SKIP_CLOCK_CHECK=true",
		"NTPPOOL_MONITOR_NTP_PORT="+strconv.Itoa(int(port)), "NTPPOOL_MONITOR_METRICS_LISTEN=127.0.0.1:0",
		"NTPPOOL_MONITOR_CONCURRENCY="+strconv.Itoa(*concurrency), "NTPPOOL_MONITOR_LOG_LEVEL=warn")
	for kv := range strings.SplitSeq(*extra, ",") {
		if kv != "" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	logf, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		return err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	fmt.Printf("loadtest: %d responders on 127.1.x.y:%d, cycle %v, probe %d×(timeout %v, spacing %v), concurrency %d, agent pid %d\n",
		*servers, port, *cycle, *samples, *timeout, *spacing, *concurrency, cmd.Process.Pid)

	ctx, cancel := context.WithTimeout(context.Background(), *warmup+*duration)
	defer cancel()
	start := time.Now()
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	var m0 sample
	var s0 fakecp.Stats
	self0 := selfCPU()
	measuring := false
	var rssMax int64
	for {
		select {
		case <-ctx.Done():
		case <-t.C:
			s, err := procSample(cmd.Process.Pid)
			if err != nil {
				return fmt.Errorf("agent gone: %w (log: %s)", err, filepath.Join(dir, "agent.log"))
			}
			st := cp.Stats()
			fmt.Printf("  t=%3.0fs results=%6d batches=%5d rss=%5.1f MB hwm=%5.1f MB\n",
				time.Since(start).Seconds(), st.Results, st.Committed, mb(s.rss), mb(s.hwm))
			if !measuring && time.Since(start) >= *warmup {
				measuring, m0, s0, self0 = true, s, st, selfCPU()
				cp.Lags() // forget the warm-up's lags
			}
			if measuring {
				rssMax = max(rssMax, s.rss)
			}
			continue
		}
		break
	}
	m1, err := procSample(cmd.Process.Pid)
	if err != nil {
		return err
	}
	s1 := cp.Stats()
	el := m1.at.Sub(m0.at).Seconds()
	lags := cp.Lags()
	slices.Sort(lags)
	pct := func(p float64) time.Duration {
		if len(lags) == 0 {
			return 0
		}
		return lags[min(len(lags)-1, int(p*float64(len(lags))))]
	}
	need := float64(*servers) / cycle.Seconds()
	got := float64(s1.Results-s0.Results) / el
	fmt.Printf("\nmeasured %.0f s after %v warm-up on %d CPUs\n", el, *warmup, runtimeCPUs())
	fmt.Printf("probes/s delivered: %.1f (needed %.1f for %d servers per %v): %s\n", got, need, *servers, *cycle, verdict(got >= 0.97*need))
	fmt.Printf("hand-out lag behind due time: p50 %v p99 %v max %v (%d hand-outs)\n", pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), pct(1).Round(time.Millisecond), len(lags))
	fmt.Printf("agent CPU: %.1f%% of one core; RSS now %.1f MB, max sampled %.1f MB, VmHWM %.1f MB\n",
		100*(m1.cpu-m0.cpu)/el, mb(m1.rss), mb(max(rssMax, m1.rss)), mb(m1.hwm))
	fmt.Printf("harness CPU (responders + control plane): %.1f%% of one core\n", 100*(selfCPU()-self0)/el)
	fmt.Printf("refused %d, stale %d, duplicates %d\n", s1.Refused, s1.Stale, s1.Duplicates)
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "KEEPS UP"
	}
	return "FALLS BEHIND"
}

type sample struct {
	at       time.Time
	cpu      float64 // seconds of user+system time
	rss, hwm int64   // bytes
}

// procSample reads a process's CPU time and memory from /proc.
func procSample(pid int) (sample, error) {
	s := sample{at: time.Now()}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name (which may hold spaces) start after ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	s.cpu = (ut + st) / 100 // USER_HZ is 100 on Linux
	fh, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			s.rss = kb << 10
		case "VmHWM":
			s.hwm = kb << 10
		}
	}
	return s, nil
}

func selfCPU() float64 {
	s, err := procSample(os.Getpid())
	if err != nil {
		return 0
	}
	return s.cpu
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func runtimeCPUs() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}
