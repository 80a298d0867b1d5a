package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ntppool-ng/ntppool/controlplane/api"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// RunConfig shapes Run; zero fields take the defaults noted.
type RunConfig struct {
	// Phase is how long the load runs before and after each kill (3s).
	Phase time.Duration
	// DNSRate is queries per second sent to each CoreDNS (200).
	DNSRate int
	// BatchRate is result batches (one result for each published server)
	// per second per monitor (20).
	BatchRate int
}

// Figures are what Run measured.
type Figures struct {
	DNSQueries      int64         // queries sent, retries included
	DNSLostSurvivor int64         // queries unanswered by a CoreDNS that was never killed (goal 0)
	DNSLostKilled   int64         // queries unanswered by the killed CoreDNS (the client retried elsewhere)
	DNSClientFailed int64         // queries no CoreDNS answered, after retrying every one (goal 0)
	DNSSlowest      time.Duration // the slowest answer of a surviving CoreDNS (a query waits 1 s)

	LeaderTakeover time.Duration // leading control plane killed to the other leading
	LeaseTTL       time.Duration
	EtcdElection   time.Duration // etcd leader killed to a new etcd leader
	LeaderChanges  int           // control plane leader changes after the etcd kill (lease lost)

	BatchesAcked int64
	ResultsAcked int64
	ResultsLost  int64 // acknowledged but not in the store (goal 0)
	PostRetries  int64 // posts retried on the other control plane

	// ScoreToDNS is, per phase (before the kills, after each kill), the
	// slower of a score falling below 10 and rising above it, from the
	// acknowledgement of the result to every live CoreDNS answering so.
	ScoreToDNS []PhaseFigure
}

// PhaseFigure is one phase's score change figure.
type PhaseFigure struct {
	Phase string
	Took  time.Duration
}

func (f Figures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "DNS: %d queries; unanswered at surviving CoreDNS %d (slowest answer %v), at the killed one %d; clients with no answer after retries %d\n",
		f.DNSQueries, f.DNSLostSurvivor, f.DNSSlowest.Round(time.Millisecond), f.DNSLostKilled, f.DNSClientFailed)
	fmt.Fprintf(&b, "leader control plane killed: new leader after %v (lease TTL %v)\n", f.LeaderTakeover.Round(time.Millisecond), f.LeaseTTL)
	fmt.Fprintf(&b, "etcd leader killed: new etcd leader after %v; control plane leader changes meanwhile %d\n",
		f.EtcdElection.Round(time.Millisecond), f.LeaderChanges)
	fmt.Fprintf(&b, "monitor results: %d acknowledged in %d batches, %d lost; %d posts retried on the other control plane\n",
		f.ResultsAcked, f.BatchesAcked, f.ResultsLost, f.PostRetries)
	for _, p := range f.ScoreToDNS {
		fmt.Fprintf(&b, "score change to every CoreDNS %s: %v\n", p.Phase, p.Took.Round(time.Millisecond))
	}
	return b.String()
}

// query asks addr for Zone's A records; nil when it did not answer.
func query(addr string, timeout time.Duration) []netip.Addr {
	ips, _ := queryWhy(addr, timeout)
	return ips
}

// queryWhy is query with the reason of a failure.
func queryWhy(addr string, timeout time.Duration) ([]netip.Addr, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(Zone), dns.TypeA)
	c := &dns.Client{Timeout: timeout}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("rcode %s", dns.RcodeToString[r.Rcode])
	}
	var out []netip.Addr
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			ip, _ := netip.AddrFromSlice(a.A.To4())
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no addresses")
	}
	return out, nil
}

// ackedBatch is a batch a control plane acknowledged.
type ackedBatch struct {
	id string
	n  int
}

// run is one Run's state.
type run struct {
	c   *Cluster
	cfg RunConfig
	cli *clientv3.Client
	f   Figures

	dnsKilled atomic.Int32 // index+1 of the killed CoreDNS, 0 before
	lostAt    [3]atomic.Int64
	slowest   [3]atomic.Int64 // nanoseconds
	start     time.Time
	queries   atomic.Int64
	clientErr atomic.Int64

	mu    sync.Mutex
	acked map[int64][]ackedBatch // by monitor id
	tries atomic.Int64
	cpOK  [2]atomic.Bool // control plane alive (for posting)
	seq   atomic.Int64
}

// Run loads the cluster with DNS queries and monitor results and kills,
// one at a time, the leading control plane, the etcd leader and one
// CoreDNS, returning the figures. The cluster is left with the survivors
// running.
func (c *Cluster) Run(ctx context.Context, cfg RunConfig) (Figures, error) {
	if cfg.Phase <= 0 {
		cfg.Phase = 3 * time.Second
	}
	if cfg.DNSRate <= 0 {
		cfg.DNSRate = 200
	}
	if cfg.BatchRate <= 0 {
		cfg.BatchRate = 20
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.EtcdEndpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return Figures{}, fmt.Errorf("cluster: etcd client: %w", err)
	}
	defer cli.Close()
	r := &run{c: c, cfg: cfg, cli: cli, acked: map[int64][]ackedBatch{}, start: time.Now()}
	r.f.LeaseTTL = c.cfg.LeaseTTL
	r.cpOK[0].Store(true)
	r.cpOK[1].Store(true)

	if !wait.Until(30*time.Second, func() bool { return r.leader() >= 0 && r.allDNS(true) }) {
		return r.f, fmt.Errorf("cluster: no leader, or the published servers not in every CoreDNS")
	}
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range c.DNS {
		wg.Go(func() { r.dnsClient(lctx, i) })
	}
	for i, m := range c.Monitors {
		wg.Go(func() { r.monitor(lctx, i, m) })
	}
	err = r.scenario(ctx)
	stop()
	wg.Wait()
	if err != nil {
		return r.f, err
	}
	r.f.DNSQueries = r.queries.Load()
	for i := range r.lostAt {
		if int32(i+1) == r.dnsKilled.Load() {
			r.f.DNSLostKilled += r.lostAt[i].Load()
		} else {
			r.f.DNSLostSurvivor += r.lostAt[i].Load()
		}
	}
	r.f.DNSClientFailed = r.clientErr.Load()
	for i := range r.slowest {
		if int32(i+1) != r.dnsKilled.Load() {
			r.f.DNSSlowest = max(r.f.DNSSlowest, time.Duration(r.slowest[i].Load()))
		}
	}
	r.f.PostRetries = r.tries.Load()
	return r.f, r.checkResults(ctx)
}

func (r *run) scenario(ctx context.Context) error {
	c := r.c
	phase := func(name string) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.cfg.Phase):
		}
		took, err := r.flip()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r.f.ScoreToDNS = append(r.f.ScoreToDNS, PhaseFigure{name, took})
		c.logf("%s: score change in every CoreDNS after %v", name, took.Round(time.Millisecond))
		return nil
	}
	if err := phase("before the kills"); err != nil {
		return err
	}

	// The leading control plane.
	lead := r.leader()
	r.cpOK[lead].Store(false)
	c.CP[lead].Kill()
	killed := time.Now()
	other := 1 - lead
	if !wait.Until(r.c.cfg.LeaseTTL+10*time.Second, func() bool { return r.leader() == other }) {
		return fmt.Errorf("cluster: %s did not take over", c.CP[other].Name)
	}
	r.f.LeaderTakeover = time.Since(killed)
	c.logf("killed %s: %s leads after %v", c.CP[lead].Name, c.CP[other].Name, r.f.LeaderTakeover.Round(time.Millisecond))
	if err := phase("after the control plane kill"); err != nil {
		return err
	}

	// The etcd leader.
	ei, id, err := r.etcdLeader(ctx)
	if err != nil {
		return err
	}
	before := r.leaderKey(ctx)
	c.Etcd[ei].Kill()
	killed = time.Now()
	if !wait.Until(30*time.Second, func() bool {
		_, nid, err := r.etcdLeader(ctx)
		return err == nil && nid != id
	}) {
		return fmt.Errorf("cluster: no new etcd leader after killing %s", c.Etcd[ei].Name)
	}
	r.f.EtcdElection = time.Since(killed)
	c.logf("killed %s (etcd leader): new etcd leader after %v", c.Etcd[ei].Name, r.f.EtcdElection.Round(time.Millisecond))
	if err := phase("after the etcd kill"); err != nil {
		return err
	}
	if after := r.leaderKey(ctx); after != before {
		r.f.LeaderChanges++
	}

	// One CoreDNS (the last): its clients retry on the others.
	d := len(c.DNS) - 1
	r.dnsKilled.Store(int32(d + 1))
	c.DNS[d].Kill()
	c.logf("killed %s", c.DNS[d].Name)
	return phase("after the CoreDNS kill")
}

// leader is the index of the leading control plane (from the election
// key's "host:pid"), -1 while none leads.
func (r *run) leader() int {
	v := r.leaderKey(context.Background())
	pid, _ := strconv.Atoi(v[strings.LastIndexByte(v, ':')+1:])
	for i, p := range r.c.CP {
		if p.Alive() && p.Pid() == pid {
			return i
		}
	}
	return -1
}

// leaderKey is the current election winner's key value ("" while none).
func (r *run) leaderKey(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	resp, err := r.cli.Get(ctx, "/ntppool-control/leader", append(clientv3.WithFirstCreate(), clientv3.WithPrefix())...)
	if err != nil || len(resp.Kvs) == 0 {
		return ""
	}
	return string(resp.Kvs[0].Value)
}

// etcdLeader finds the etcd raft leader among the live members: its index
// and member id.
func (r *run) etcdLeader(ctx context.Context) (int, uint64, error) {
	for i, p := range r.c.Etcd {
		if !p.Alive() {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		st, err := r.cli.Status(sctx, "http://"+p.Addr)
		cancel()
		if err != nil || st.Leader == 0 {
			continue
		}
		if st.Header.MemberId == st.Leader {
			return i, st.Leader, nil
		}
	}
	return -1, 0, fmt.Errorf("cluster: no etcd leader")
}

// allDNS reports whether every live CoreDNS answers with every published
// server, and the flip server exactly when flipIn.
func (r *run) allDNS(flipIn bool) bool {
	for _, p := range r.c.DNS {
		if !p.Alive() {
			continue
		}
		got := query(p.Addr, 300*time.Millisecond)
		if got == nil || slices.Contains(got, r.c.Flip) != flipIn {
			return false
		}
		for _, s := range r.c.Servers {
			if !slices.Contains(got, s) {
				return false
			}
		}
	}
	return true
}

// flip moves the flip server's score below 10 (one result 5 s off) and
// back above (good results), posted to the leading control plane, and
// returns the slower of the two times to every live CoreDNS.
func (r *run) flip() (time.Duration, error) {
	m := r.c.Flipper
	lead := r.leader()
	if lead < 0 {
		return 0, fmt.Errorf("cluster: no leading control plane")
	}
	post := func(offset float64, n int) error {
		res := r.batch(m, func(int) netip.Addr { return r.c.Flip }, offset, n)
		return r.post(context.Background(), lead, m, res)
	}
	if err := post(5, 1); err != nil {
		return 0, err
	}
	acked := time.Now()
	if !wait.Until(20*time.Second, func() bool { return r.allDNS(false) }) {
		return 0, fmt.Errorf("cluster: the flip server's fall not in every CoreDNS")
	}
	out := time.Since(acked)
	// From -20 about 27 good results bring a monitor's score past 10; a
	// batch holds a server once.
	for range 30 {
		if err := post(0.001, 1); err != nil {
			return 0, err
		}
	}
	acked = time.Now()
	if !wait.Until(20*time.Second, func() bool { return r.allDNS(true) }) {
		return 0, fmt.Errorf("cluster: the flip server's rise not in every CoreDNS")
	}
	return max(out, time.Since(acked)), nil
}

// batch is n results of monitor m for the servers ip(k), offset seconds off.
func (r *run) batch(m Monitor, ip func(k int) netip.Addr, offset float64, n int) monitorapi.Results {
	id := fmt.Sprintf("%016x-%08d", time.Now().UnixNano(), r.seq.Add(1))
	res := monitorapi.Results{BatchID: id}
	rtt := 0.002
	for k := range n {
		a := ip(k)
		res.Results = append(res.Results, monitorapi.Result{IP: a, Ticket: api.Ticket([]byte(TicketKey), m.ID, id, a),
			Time: time.Now(), Offset: &offset, RTT: &rtt, Stratum: 2})
	}
	return res
}

// post sends res to control plane cp, retrying on the other while the
// one tried fails (as a monitor does), and records the acknowledgement.
func (r *run) post(ctx context.Context, cp int, m Monitor, res monitorapi.Results) error {
	body, _ := json.Marshal(res)
	deadline := time.Now().Add(30 * time.Second)
	for try := 0; time.Now().Before(deadline) && ctx.Err() == nil; try++ {
		i := (cp + try) % len(r.c.CP)
		if try > 0 {
			r.tries.Add(1)
		}
		if !r.cpOK[i].Load() {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		req, _ := http.NewRequestWithContext(rctx, "POST", "http://"+r.c.CP[i].Addr+monitorapi.PathResults, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.Token)
		resp, err := http.DefaultClient.Do(req)
		var msg monitorapi.Error
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&msg)
			resp.Body.Close()
		}
		cancel()
		if err == nil && resp.StatusCode == http.StatusOK {
			r.mu.Lock()
			r.acked[m.ID] = append(r.acked[m.ID], ackedBatch{res.BatchID, len(res.Results)})
			r.f.BatchesAcked++
			r.f.ResultsAcked += int64(len(res.Results))
			r.mu.Unlock()
			return nil
		}
		if err == nil && resp.StatusCode/100 == 4 {
			return fmt.Errorf("cluster: results refused: %d %s", resp.StatusCode, msg.Error)
		}
	}
	if ctx.Err() != nil {
		return nil // not acknowledged: not counted
	}
	return fmt.Errorf("cluster: no control plane took batch %s", res.BatchID)
}

// monitor posts batches of good results, one for each published server,
// at BatchRate, starting on control plane i%2.
func (r *run) monitor(ctx context.Context, i int, m Monitor) {
	t := time.NewTicker(time.Second / time.Duration(r.cfg.BatchRate))
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res := r.batch(m, func(k int) netip.Addr { return r.c.Servers[k] }, 0.001, len(r.c.Servers))
		if err := r.post(ctx, i%2, m, res); err != nil && ctx.Err() == nil {
			r.c.logf("monitor %d: %v", m.ID, err)
		}
	}
}

// dnsClient queries CoreDNS i at DNSRate; an unanswered query counts
// against that server and is retried on the others.
func (r *run) dnsClient(ctx context.Context, i int) {
	t := time.NewTicker(time.Second / time.Duration(r.cfg.DNSRate))
	defer t.Stop()
	n := len(r.c.DNS)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok := false
		for try := range n {
			j := (i + try) % n
			if int32(j+1) == r.dnsKilled.Load() && try > 0 {
				continue // a client that moved on does not come back to it
			}
			r.queries.Add(1)
			sent := time.Now()
			_, err := queryWhy(r.c.DNS[j].Addr, time.Second)
			if d := int64(time.Since(sent)); d > r.slowest[j].Load() {
				r.slowest[j].Store(d)
			}
			if err == nil {
				ok = true
				break
			}
			if ctx.Err() != nil {
				return
			}
			if r.lostAt[j].Add(1) <= 3 && int32(j+1) != r.dnsKilled.Load() {
				r.c.logf("%s: query failed at %v: %v", r.c.DNS[j].Name, time.Since(r.start).Round(time.Millisecond), err)
			}
		}
		if !ok {
			r.clientErr.Add(1)
		}
	}
}

// checkResults counts acknowledged batches missing from the store.
func (r *run) checkResults(ctx context.Context) error {
	st, err := store.Open(ctx, r.c.cfg.DB)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer st.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for mid, bs := range r.acked {
		for _, b := range bs {
			n, ok, err := st.BatchAccepted(ctx, mid, b.id)
			if err != nil {
				return fmt.Errorf("cluster: check batch: %w", err)
			}
			if !ok {
				r.f.ResultsLost += int64(b.n)
			} else if n < b.n {
				r.f.ResultsLost += int64(b.n - n)
			}
		}
	}
	return nil
}
