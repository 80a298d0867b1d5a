package assign

import (
	"cmp"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
)

var simLong = flag.Bool("sim.long", false, "simulate the monitor network for 4 weeks over 5,000 servers (default: 1 week, 1,000)")

// The simulated network: 50 dual-stack monitors, each in its own /20 and
// /44; 40 of them in 8 accounts of 5 (the per-account limits bind), 10
// without an account; 3 only globally testing; 3 dropping a third of their
// probes (unhealthy everywhere). Servers: most answer within a few ms,
// some at 50 or 150 ms, a few never; some sit in a monitor's /24 (/48),
// some belong to a monitor's account; a fifth are IPv6. A batch of new
// perfect servers arrives after the warm-up, to time their way into the
// DNS.
const (
	simMonitors  = 50
	simAccounts  = 8 // of 5 monitors each: monitors 0-39
	simNewCount  = 20
	simWarmup    = 3 * 24 * time.Hour // targets are checked after it
	simSlotCount = 256                // minutes in the due-time ring (> the 2 h interval)
)

type simMonitor struct {
	id      int64
	account int64
	ip4     netip.Addr
	ip6     netip.Addr
	global  GlobalState
	rtt     time.Duration
	loss    float64
}

// simBucket is one hour of a pair's health, as store.pair_health_hours.
type simBucket struct {
	hour       int64
	n, rttN    int
	step, rtts float64
}

type simPair struct {
	state   score.State
	score   float64
	handed  time.Time
	row     int // index of its newest score in simServer.rows; -1: none yet
	hours   [healthHours]simBucket
	sum     simBucket // of the buckets in the window
	expired int64     // hours up to this one are out of sum
	version int       // of the pair's entry in the due ring
}

// healthHours: the current hour and the 24 before it, as the store reads.
const healthHours = 25

func (p *simPair) add(now time.Time, step, rtt float64) {
	h := now.Unix() / 3600
	p.expire(h)
	b := &p.hours[h%healthHours]
	if b.hour != h {
		*b = simBucket{hour: h}
	}
	b.n++
	b.step += step
	b.rtts += rtt
	b.rttN++
	p.sum.n++
	p.sum.step += step
	p.sum.rtts += rtt
	p.sum.rttN++
}

// expire takes the buckets that left the window (older than the current
// hour h and the 24 before it) out of the running sum.
func (p *simPair) expire(h int64) {
	if p.expired == 0 {
		p.expired = h - healthHours
	}
	for ; p.expired <= h-healthHours; p.expired++ {
		b := &p.hours[p.expired%healthHours]
		if b.hour == p.expired && b.n > 0 {
			p.sum.n -= b.n
			p.sum.rttN -= b.rttN
			p.sum.step -= b.step
			p.sum.rtts -= b.rtts
			*b = simBucket{}
		}
	}
}

func (p *simPair) health(now time.Time) Health {
	p.expire(now.Unix() / 3600)
	if p.sum.n == 0 {
		return Health{}
	}
	return Health{Points: p.sum.n, AvgStep: p.sum.step / float64(p.sum.n),
		AvgRTT: time.Duration(p.sum.rtts / float64(max(p.sum.rttN, 1)) * float64(time.Second))}
}

type simServer struct {
	id      int64
	ip      netip.Addr
	account int64
	offset  float64 // seconds; < 0: never answers
	created time.Time
	pairs   [simMonitors]*simPair
	rows    []score.MonitorScore // each monitor's newest score (simPair.row)
	overall float64
	scored  time.Time
	nextRun time.Time
	probed  time.Time // last minute it was probed
	inDNS   time.Time
}

type simRef struct {
	server  *simServer
	mon     int
	version int
}

type sim struct {
	t        *testing.T
	ac       Config
	sc       score.Config
	rng      *rand.Rand
	mons     []simMonitor
	servers  []*simServer
	ring     [simSlotCount][]simRef
	now      time.Time
	start    time.Time
	ms       []MonitorStatus
	runs     [simSlotCount][]*simServer // selection runs by minute
	probes   int
	passes   int
	changes  int
	violated int // constraint violations seen after passes
	missed   int // passes after the warm-up that left a server short of its targets
	missLog  int
}

// newSim builds shard of shards of the network: every monitor, and the
// servers whose index is shard modulo shards (servers are independent, so
// shards run side by side).
func newSim(t *testing.T, nServers int, start time.Time, shard, shards int) *sim {
	s := &sim{t: t, ac: DefaultConfig(), sc: score.DefaultConfig(), rng: rand.New(rand.NewPCG(uint64(shard), 2026)), now: start, start: start}
	mrng := rand.New(rand.NewPCG(11, 2026)) // the same monitors in every shard
	for i := range simMonitors {
		m := simMonitor{
			id:   int64(i + 1),
			ip4:  netip.AddrFrom4([4]byte{44, byte(i), 0, 10}),                                             // 44.i.0.0/20: one /20 each
			ip6:  netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 4), byte(i << 4), 15: 0x10}), // 2001:db8:i0::/44
			rtt:  time.Duration(5+mrng.IntN(150)) * time.Millisecond,
			loss: 0.005,
		}
		if i < simAccounts*5 {
			m.account = int64(1 + i/5)
		}
		m.global = GlobalActive
		if i%17 == 3 { // monitors 3, 20, 37: globally testing
			m.global = GlobalTesting
		}
		if i%19 == 7 { // monitors 7, 26, 45: drop a third of their probes
			m.loss = 0.35
		}
		s.mons = append(s.mons, m)
	}
	for n := shard; n < nServers; n += shards {
		r := rand.New(rand.NewPCG(uint64(n), 7))
		s.addServer(int64(n+1), s.serverIP(n, r), serverAccount(n), serverOffset(r), start)
	}
	return s
}

// serverIP: a fifth IPv6; one in 40 inside a monitor's /24 or /48.
func (s *sim) serverIP(n int, r *rand.Rand) netip.Addr {
	v6 := n%5 == 4
	if n%40 == 7 {
		m := s.mons[r.IntN(simMonitors)]
		if v6 {
			b := m.ip6.As16()
			b[15] = byte(100 + n%100)
			return netip.AddrFrom16(b)
		}
		b := m.ip4.As4()
		b[3] = byte(100 + n%100)
		return netip.AddrFrom4(b)
	}
	if v6 {
		return netip.AddrFrom16([16]byte{0x2a, 0x02, byte(n >> 16), byte(n >> 8), byte(n), 15: 1})
	}
	return netip.AddrFrom4([4]byte{100, byte(n >> 16), byte(n >> 8), byte(n)})
}

// serverAccount: one in 25 belongs to a monitor operator's account.
func serverAccount(n int) int64 {
	if n%25 == 3 {
		return int64(1 + n%simAccounts)
	}
	return int64(1000 + n)
}

func serverOffset(rng *rand.Rand) float64 {
	switch r := rng.Float64(); {
	case r < 0.02:
		return -1 // never answers
	case r < 0.05:
		return 0.150
	case r < 0.15:
		return 0.050
	default:
		return 0.0005 + 0.004*rng.Float64()
	}
}

func (s *sim) addServer(id int64, ip netip.Addr, account int64, offset float64, at time.Time) *simServer {
	srv := &simServer{id: id, ip: ip, account: account, offset: offset, created: at, nextRun: at}
	s.servers = append(s.servers, srv)
	s.scheduleRun(srv)
	return srv
}

// scheduleRun puts the server's next selection run in the ring.
func (s *sim) scheduleRun(srv *simServer) {
	m := int64(srv.nextRun.Sub(s.start).Minutes())
	s.runs[m%simSlotCount] = append(s.runs[m%simSlotCount], srv)
}

func (s *sim) monIP(m *simMonitor, srv *simServer) netip.Addr {
	if srv.ip.Is4() {
		return m.ip4
	}
	return m.ip6
}

// enqueue puts the pair in the due ring at its next due time (at least
// the next minute).
func (s *sim) enqueue(srv *simServer, mi int) {
	p := srv.pairs[mi]
	at, ok := s.ac.NextDue(Pair{State: p.state, Global: s.mons[mi].global, Score: p.score, Handed: p.handed, Scored: srv.scored})
	if !ok {
		return
	}
	min := max(at.Sub(s.start).Minutes(), s.now.Sub(s.start).Minutes()+1)
	slot := int64(min+0.999999) % simSlotCount // the next whole minute at or after at
	p.version++
	s.ring[slot] = append(s.ring[slot], simRef{srv, mi, p.version})
}

// run advances minute by minute to end: selection for every server whose
// run is due (checked after each), then at most one probe per server and
// minute (the 60 s rescore gap). Which due monitor gets the server is
// random: each monitor polls on its own, and the first to ask wins; the
// others ask again the next minute.
func (s *sim) run(end time.Time, each func()) {
	var due []simRef
	for ; s.now.Before(end); s.now = s.now.Add(time.Minute) {
		slot := int64(s.now.Sub(s.start).Minutes()) % simSlotCount
		runs := s.runs[slot]
		s.runs[slot] = nil
		slices.SortFunc(runs, func(a, b *simServer) int { return cmp.Compare(a.id, b.id) })
		for _, srv := range runs {
			s.selectFor(srv)
		}
		due = append(due[:0], s.ring[slot]...)
		s.ring[slot] = s.ring[slot][:0]
		s.rng.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
		next := (slot + 1) % simSlotCount
		for _, r := range due {
			p := r.server.pairs[r.mon]
			if p.version != r.version {
				continue // re-queued since
			}
			if r.server.probed.Equal(s.now) {
				s.ring[next] = append(s.ring[next], r) // one probe per server and minute
				continue
			}
			r.server.probed = s.now
			s.probe(r.server, r.mon)
		}
		if each != nil {
			each()
		}
	}
}

func (s *sim) probe(srv *simServer, mi int) {
	m, p := &s.mons[mi], srv.pairs[mi]
	s.probes++
	p.handed = s.now
	var pr score.Probe
	if srv.offset < 0 || s.rng.Float64() < m.loss {
		pr = score.Probe{NoResponse: true}
	} else {
		off := srv.offset + 0.0002*(s.rng.Float64()-0.5)
		pr = score.Probe{Offset: &off, Stratum: 2}
	}
	st := s.sc.Step(pr)
	p.score = s.sc.Next(p.score, st)
	rtt := m.rtt + time.Duration(s.rng.IntN(2000))*time.Microsecond
	row := score.MonitorScore{MonitorID: m.id, State: p.state, Score: p.score, RTT: rtt, Time: s.now, Step: st.Value}
	if p.row < 0 {
		p.row = len(srv.rows)
		srv.rows = append(srv.rows, row)
	} else {
		srv.rows[p.row] = row
	}
	p.add(s.now, st.Value, rtt.Seconds())
	if s.now.After(srv.scored) {
		if chosen, ok := s.sc.RecentMedian(s.now, srv.rows); ok {
			srv.overall, srv.scored = chosen.Score, s.now
		}
	}
	if srv.inDNS.IsZero() && s.sc.InDNS(s.now, score.Server{Score: srv.overall, NetSpeed: 1000}) {
		srv.inDNS = s.now
	}
	s.enqueue(srv, mi)
}

// selectFor runs Plan for one server, applies its changes and checks the
// result.
func (s *sim) selectFor(srv *simServer) {
	s.ms = s.ms[:0]
	for i := range s.mons {
		m := &s.mons[i]
		ms := MonitorStatus{ID: m.id, AccountID: m.account, IP: s.monIP(m, srv), Global: m.global, State: score.None}
		if p := srv.pairs[i]; p != nil {
			ms.State, ms.Health = p.state, p.health(s.now)
		}
		s.ms = append(s.ms, ms)
	}
	changes := Plan(Server{IP: srv.ip, AccountID: srv.account}, s.ms, s.ac)
	for _, c := range changes {
		i := int(c.MonitorID - 1)
		p := srv.pairs[i]
		if p == nil {
			p = &simPair{row: -1}
			srv.pairs[i] = p
		}
		p.state = c.To
		if p.row >= 0 {
			srv.rows[p.row].State = c.To
		}
		s.ms[i].State = c.To
		s.enqueue(srv, i) // the interval follows the state
	}
	s.passes++
	s.changes += len(changes)
	srv.nextRun = s.ac.NextRun(s.now, len(changes) > 0)
	s.scheduleRun(srv)
	if v := s.violations(srv); len(v) > 0 {
		s.violated += len(v)
		if s.violated <= 5 {
			s.t.Errorf("%v: server %d (%v): %v", s.now.Sub(s.start), srv.id, srv.ip, v)
		}
	}
	if s.now.Sub(srv.created) >= simWarmup {
		if msg := s.targetMiss(srv); msg != "" {
			s.missed++
			if s.missLog++; s.missLog <= 5 {
				s.t.Logf("%v: server %d short of its targets: %s", s.now.Sub(s.start), srv.id, msg)
			}
		}
	}
}

// violations lists the constraints the server's active and testing
// monitors break (s.ms holds them after the pass).
func (s *sim) violations(srv *simServer) []string {
	var out []string
	bits, spread := 24, 20
	if srv.ip.Is6() {
		bits, spread = 48, 44
	}
	own, _ := srv.ip.Prefix(bits)
	type counts struct{ active, testing int }
	perAcct := map[int64]*counts{}
	nets := map[netip.Prefix]int64{}
	for _, m := range s.ms {
		if m.State != score.Active && m.State != score.Testing {
			continue
		}
		switch {
		case own.Contains(m.IP):
			out = append(out, fmt.Sprintf("monitor %d in the server's /%d", m.ID, bits))
		case m.AccountID != 0 && m.AccountID == srv.account:
			out = append(out, fmt.Sprintf("monitor %d of the server's account", m.ID))
		case m.State == score.Active && m.Global != GlobalActive:
			out = append(out, fmt.Sprintf("monitor %d active while globally %v", m.ID, m.Global))
		case !m.Global.Works():
			out = append(out, fmt.Sprintf("monitor %d %v while globally %v", m.ID, m.State, m.Global))
		}
		n, _ := m.IP.Prefix(spread)
		if other, ok := nets[n]; ok {
			out = append(out, fmt.Sprintf("monitors %d and %d in one /%d", other, m.ID, spread))
		}
		nets[n] = m.ID
		if m.AccountID == 0 {
			continue
		}
		c := perAcct[m.AccountID]
		if c == nil {
			c = &counts{}
			perAcct[m.AccountID] = c
		}
		if m.State == score.Active {
			c.active++
		} else {
			c.testing++
		}
	}
	for a, c := range perAcct {
		if c.active > 2 || c.testing > 3 || c.active+c.testing > 3 {
			out = append(out, fmt.Sprintf("account %d: %d active, %d testing", a, c.active, c.testing))
		}
	}
	return out
}

// targetMiss says how the server falls short of 7 active and 5 + (7 -
// active) testing monitors while enough eligible ones exist ("" when it
// does not): eligible for active are healthy, globally active monitors with
// 32 data points outside the server's network and account, at most 2 per
// account; for testing, those with 9 data points (or testing already), at
// most 3 per account less its active ones.
func (s *sim) targetMiss(srv *simServer) string {
	bits := 24
	if srv.ip.Is6() {
		bits = 48
	}
	own, _ := srv.ip.Prefix(bits)
	eligible := func(m MonitorStatus) bool {
		return m.Global.Works() && !own.Contains(m.IP) && (m.AccountID == 0 || m.AccountID != srv.account)
	}
	activeCap, active, testing := 0, 0, 0
	byAcct := map[int64]int{}
	for _, m := range s.ms {
		if eligible(m) && m.Global == GlobalActive && m.Health.Healthy() && m.Health.Points >= s.ac.MinPointsActive {
			if m.AccountID == 0 || byAcct[m.AccountID] < s.ac.AccountMaxActive {
				byAcct[m.AccountID]++
				activeCap++
			}
		}
		switch m.State {
		case score.Active:
			active++
		case score.Testing:
			testing++
		}
	}
	wantActive := min(s.ac.TargetActive, activeCap)
	acctActive := map[int64]int{}
	for _, m := range s.ms {
		if m.State == score.Active {
			acctActive[m.AccountID]++
		}
	}
	testCap := 0
	acctTest := map[int64]int{}
	for _, m := range s.ms {
		if m.State == score.Active || !eligible(m) || (m.State != score.Testing && m.Health.Points < s.ac.MinPointsTesting) {
			continue
		}
		if m.AccountID != 0 {
			room := min(s.ac.AccountMaxTesting, s.ac.AccountMaxTotal-acctActive[m.AccountID])
			if acctTest[m.AccountID] >= room {
				continue
			}
			acctTest[m.AccountID]++
		}
		testCap++
	}
	wantTesting := min(s.ac.TargetTesting+max(0, s.ac.TargetActive-active), testCap)
	if active < wantActive || testing < wantTesting {
		return fmt.Sprintf("%d active (want %d), %d testing (want %d)", active, wantActive, testing, wantTesting)
	}
	return ""
}

// TestSimulationMonitorNetwork runs the rules over a simulated week on a
// virtual clock and logs constraint_violations and
// new_server_to_dns_hours (go test -v -run Simulation ./controlplane/...).
func TestSimulationMonitorNetwork(t *testing.T) {
	nServers, days := 1000, 7
	if *simLong {
		nServers, days = 5000, 28
	}
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const shards = 2 // servers are independent: one shard per core
	sims := make([]*sim, shards)
	fresh := make([][]*simServer, shards)
	var wg sync.WaitGroup
	for k := range shards {
		wg.Go(func() {
			s := newSim(t, nServers, start, k, shards)
			s.run(start.Add(simWarmup+7*time.Minute), nil)
			for i := k; i < simNewCount; i += shards {
				ip := netip.AddrFrom4([4]byte{198, 18, byte(i), 1})
				if i%5 == 4 {
					ip = netip.AddrFrom16([16]byte{0x2a, 0x03, byte(i), 15: 1})
				}
				fresh[k] = append(fresh[k], s.addServer(int64(nServers+1+i), ip, int64(5000+i), 0.001, s.now))
			}
			s.run(start.Add(time.Duration(days)*24*time.Hour), nil)
			sims[k] = s
		})
	}
	wg.Wait()
	var probes, passes, changes, violated, missed, servers int
	for _, s := range sims {
		probes, passes, changes, violated, missed = probes+s.probes, passes+s.passes, changes+s.changes, violated+s.violated, missed+s.missed
		servers += len(s.servers)
	}
	var total, worst time.Duration
	for _, srv := range slices.Concat(fresh...) {
		if srv.inDNS.IsZero() {
			t.Errorf("new server %v never reached the DNS", srv.ip)
			continue
		}
		d := srv.inDNS.Sub(srv.created)
		total += d
		worst = max(worst, d)
	}
	mean := total / simNewCount
	t.Logf("%d servers, %d monitors, %d days: %d probes, %d selection passes, %d changes, %d passes short of targets after warm-up",
		servers, simMonitors, days, probes, passes, changes, missed)
	t.Logf("constraint_violations %d", violated)
	t.Logf("new_server_to_dns_hours %.2f (worst %.2f)", mean.Hours(), worst.Hours())
	if violated != 0 {
		t.Errorf("%d constraint violations", violated)
	}
	if mean > 11*time.Hour || worst > 12*time.Hour {
		t.Errorf("new servers reached the DNS after %v on average (worst %v), want about 10 hours", mean, worst)
	}
	// At the end every server has its targets where eligible monitors allow.
	short := 0
	for _, s := range sims {
		for _, srv := range s.servers {
			s.ms = s.ms[:0]
			for i := range s.mons {
				m := &s.mons[i]
				ms := MonitorStatus{ID: m.id, AccountID: m.account, IP: s.monIP(m, srv), Global: m.global, State: score.None}
				if p := srv.pairs[i]; p != nil {
					ms.State, ms.Health = p.state, p.health(s.now)
				}
				s.ms = append(s.ms, ms)
			}
			if msg := s.targetMiss(srv); msg != "" {
				short++
				if short <= 5 {
					t.Errorf("server %d (%v) at the end: %s", srv.id, srv.ip, msg)
				}
			}
		}
	}
	if missed > 0 {
		t.Errorf("%d selection passes after the warm-up left a server short of its targets", missed)
	}
}
