package assign

import (
	"cmp"
	"net/netip"
	"slices"
	"sync"

	"github.com/ntppool-ng/ntppool/controlplane/score"
)

// Budget categories: POOL.md limits each per run.
const (
	activeDemotions = iota
	testingDemotions
	promotions
	categories
)

// entry is the planner's view of one monitor.
type entry struct {
	m       *MonitorStatus
	state   score.State  // planned state
	static  bool         // may watch this server at all (global state, own network, own account)
	inSet   bool         // counts among the server's active+testing monitors
	frozen  bool         // already changed in this run
	healthy bool         // Health.Healthy
	prio    float64      // Health.Priority
	spread  netip.Prefix // the monitor's spread network; invalid when the rule is off
	created int          // index in planner.out of the change that created its row; -1: none
}

type planner struct {
	cfg       Config
	es        []entry
	out       []Change
	count     [score.Paused + 1]int // entries per planned state
	budget    [categories]int
	serverNet netip.Prefix
	account   int64
}

// scratch is the planner's working space, recycled through scratchPool: a
// full pass plans every server, and the scratch would otherwise be most of
// its garbage.
type scratch struct {
	es, sorted []entry
	order      []int
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Plan selects the server's monitors for one run of the selection and
// returns the changes to apply, in order (nil when nothing changes). It
// reads ms and never modifies it. Monitors of the other IP version are
// ignored; one without a row (score.None) becomes a candidate unless it is
// deleted. See the package documentation for the rules.
func Plan(s Server, ms []MonitorStatus, cfg Config) []Change {
	sc := scratchPool.Get().(*scratch)
	p := planner{cfg: cfg, es: sc.es[:0], account: s.AccountID}
	defer func() {
		clear(p.es) // drop the pointers into ms
		clear(sc.sorted)
		sc.es = p.es[:0]
		scratchPool.Put(sc)
	}()
	ip := s.IP.Unmap()
	if bits := cfg.netBits(ip, cfg.ServerNetV4, cfg.ServerNetV6); bits > 0 {
		p.serverNet, _ = ip.Prefix(bits)
	}
	for i := range ms {
		p.add(ip, &ms[i])
	}
	p.sort(sc)

	bootstrap := p.count[score.Testing] == 0 && cfg.BootstrapTesting > 0
	blocked := p.markIncumbents()
	limit := cfg.MaxChanges
	if blocked > 1 {
		limit = max(limit, cfg.MaxChangesBlocked)
	}
	if p.count[score.Active] == 0 {
		limit = max(limit, cfg.MaxChangesBootstrap)
	}
	p.budget = [categories]int{limit, limit, limit}

	p.demoteBlocked()
	p.demoteUnhealthy()
	p.balanceActive()
	// A bootstrap run stops there: the usual fill would add promotions
	// with the data-point minimum the bootstrap has just waived.
	if !bootstrap || p.bootstrap() == 0 {
		p.balanceTesting()
	}
	return p.out
}

// add takes one monitor into the plan.
func (p *planner) add(server netip.Addr, m *MonitorStatus) {
	mip := m.IP.Unmap()
	if mip.IsValid() && server.IsValid() && mip.Is4() != server.Is4() {
		return
	}
	e := entry{m: m, state: m.State, healthy: m.Health.Healthy(), prio: m.Health.Priority(), created: -1}
	e.static = m.Global.Works() &&
		!(p.serverNet.IsValid() && mip.IsValid() && p.serverNet.Contains(mip)) &&
		!(p.cfg.ExcludeOwnAccount && m.AccountID != 0 && m.AccountID == p.account)
	if bits := p.cfg.netBits(mip, p.cfg.SpreadV4, p.cfg.SpreadV6); bits > 0 {
		e.spread, _ = mip.Prefix(bits)
	}
	if e.state > score.Paused {
		return // unknown state: leave the row alone
	}
	p.count[e.state]++
	if m.State == score.None {
		if m.Global == GlobalDeleted {
			return
		}
		p.es = append(p.es, e)
		p.es[len(p.es)-1].created = len(p.out)
		p.set(len(p.es)-1, score.Candidate, ReasonNew)
		return
	}
	p.es = append(p.es, e)
}

// netBits is the prefix length for a's IP version (0 when a is invalid).
func (c Config) netBits(a netip.Addr, v4, v6 int) int {
	switch {
	case !a.IsValid():
		return 0
	case a.Is4():
		return v4
	default:
		return v6
	}
}

// sort puts the entries in rank order. It sorts indices and moves each
// entry once: comparing and swapping whole entries was most of a pass.
func (p *planner) sort(sc *scratch) {
	sc.order = sc.order[:0]
	for i := range p.es {
		sc.order = append(sc.order, i)
	}
	slices.SortFunc(sc.order, func(a, b int) int { return rank(&p.es[a], &p.es[b]) })
	sc.sorted = sc.sorted[:0]
	for _, i := range sc.order {
		sc.sorted = append(sc.sorted, p.es[i])
	}
	p.es, sc.sorted = sc.sorted, p.es
}

// rank orders monitors best first: healthy ones, then lower priority, then
// higher average step, then lower RTT, then id for a stable plan.
func rank(a, b *entry) int {
	if a.healthy != b.healthy {
		if a.healthy {
			return -1
		}
		return 1
	}
	// Early returns, not cmp.Or: it would evaluate every comparison, and
	// sorting is most of a pass.
	if c := cmp.Compare(a.prio, b.prio); c != 0 {
		return c
	}
	ha, hb := &a.m.Health, &b.m.Health
	if c := cmp.Compare(hb.AvgStep, ha.AvgStep); c != 0 {
		return c
	}
	if c := cmp.Compare(ha.AvgRTT, hb.AvgRTT); c != 0 {
		return c
	}
	return cmp.Compare(a.m.ID, b.m.ID)
}

// markIncumbents walks the active, then the testing monitors, best first,
// and keeps each one that is allowed in its state next to those kept
// before it; it returns how many are blocked.
func (p *planner) markIncumbents() (blocked int) {
	for _, st := range []score.State{score.Active, score.Testing} {
		for i := range p.es {
			e := &p.es[i]
			if e.state != st {
				continue
			}
			if e.static && (st != score.Active || e.m.Global == GlobalActive) && p.fits(i, st, -1) {
				e.inSet = true
			} else {
				blocked++
			}
		}
	}
	return blocked
}

// demoteBlocked moves blocked active and testing monitors out, worst first,
// within the budgets. Those left over still count as members this run.
func (p *planner) demoteBlocked() {
	for i := len(p.es) - 1; i >= 0; i-- {
		e := &p.es[i]
		if e.inSet || e.frozen {
			continue
		}
		switch {
		case e.state == score.Active && p.take(activeDemotions):
			p.demoteActive(i, ReasonBlocked)
		case e.state == score.Testing && p.take(testingDemotions):
			p.set(i, score.Candidate, ReasonBlocked)
		}
	}
	for i := range p.es {
		p.es[i].inSet = p.es[i].state == score.Active || p.es[i].state == score.Testing
	}
}

// demoteUnhealthy moves active monitors in poor health (no data or an
// average step below 0) to testing, worst first, within the budget, while
// a healthy active monitor remains: when every monitor sees the server
// badly the server is at fault, not the monitors. It never takes the last
// active monitor.
func (p *planner) demoteUnhealthy() {
	healthy := false
	for i := range p.es {
		if e := &p.es[i]; e.state == score.Active && e.healthy {
			healthy = true
			break
		}
	}
	if !healthy {
		return
	}
	for i := len(p.es) - 1; i >= 0 && p.count[score.Active] > 1; i-- {
		e := &p.es[i]
		if e.state != score.Active || e.healthy || e.frozen {
			continue
		}
		if !p.take(activeDemotions) {
			return
		}
		p.demoteActive(i, ReasonUnhealthy)
	}
}

// bootstrap promotes up to BootstrapTesting candidates to testing, best
// first within the constraints, without the data-point minimum and outside
// the change limits, for a server that had no testing monitor: a new
// server is then scored by several monitors at the testing interval from
// its first run. Rows created in this run go straight to testing. It
// returns the number promoted.
func (p *planner) bootstrap() (promoted int) {
	target := p.cfg.TargetTesting + max(0, p.cfg.TargetActive-p.count[score.Active])
	n := min(p.cfg.BootstrapTesting, target-p.count[score.Testing])
	for i := range p.es {
		if promoted >= n {
			break
		}
		e := &p.es[i]
		if e.state != score.Candidate || (e.frozen && e.created < 0) || !e.static || !p.fits(i, score.Testing, -1) {
			continue
		}
		promoted++
		if e.created >= 0 { // new row: create it as testing
			p.out[e.created].To, p.out[e.created].Reason = score.Testing, ReasonBootstrap
			p.count[score.Candidate]--
			p.count[score.Testing]++
			e.state, e.inSet = score.Testing, true
			continue
		}
		p.set(i, score.Testing, ReasonBootstrap)
	}
	return promoted
}

// demoteActive moves an active monitor to testing, or to candidate when it
// may not be testing on this server.
func (p *planner) demoteActive(i int, why Reason) {
	p.es[i].inSet = false
	if p.es[i].static && p.fits(i, score.Testing, -1) {
		p.set(i, score.Testing, why)
	} else {
		p.set(i, score.Candidate, why)
	}
}

// balanceActive trims active monitors above the target, fills up to the
// target from testing, then swaps in better testing monitors.
func (p *planner) balanceActive() {
	c := p.cfg
	for p.count[score.Active] > max(c.TargetActive, 1) {
		w := p.worst(score.Active)
		if w < 0 || !p.take(activeDemotions) {
			break
		}
		p.demoteActive(w, ReasonExcess)
	}
	for p.count[score.Active] < c.TargetActive {
		x := p.best(score.Testing, score.Active, -1)
		if x < 0 || !p.take(promotions) {
			break
		}
		p.set(x, score.Active, ReasonFill)
	}
	p.replace(score.Testing, score.Active, activeDemotions, func(w int) { p.demoteActive(w, ReasonReplaced) })
}

// balanceTesting does the same for testing monitors, whose target grows by
// the active monitors still missing.
func (p *planner) balanceTesting() {
	c := p.cfg
	target := c.TargetTesting + max(0, c.TargetActive-p.count[score.Active])
	for p.count[score.Testing] > target {
		w := p.worst(score.Testing)
		if w < 0 || !p.take(testingDemotions) {
			break
		}
		p.set(w, score.Candidate, ReasonExcess)
	}
	for p.count[score.Testing] < target {
		x := p.best(score.Candidate, score.Testing, -1)
		if x < 0 || !p.take(promotions) {
			break
		}
		p.set(x, score.Testing, ReasonFill)
	}
	p.replace(score.Candidate, score.Testing, testingDemotions, func(w int) { p.set(w, score.Candidate, ReasonReplaced) })
}

// replace swaps the worst monitor in state to for the best one in state
// from while that one beats it and the budgets (promotions and demotions
// of category k) last; demote moves the replaced one down.
func (p *planner) replace(from, to score.State, k int, demote func(w int)) {
	for p.budget[promotions] > 0 && p.budget[k] > 0 {
		w := p.worst(to)
		if w < 0 {
			return
		}
		x := p.best(from, to, w)
		if x < 0 || !p.beats(x, w) {
			return
		}
		p.take(promotions)
		p.take(k)
		p.set(x, to, ReasonReplace)
		demote(w)
	}
}

// take spends one change of category k, reporting whether one was left.
func (p *planner) take(k int) bool {
	if p.budget[k] <= 0 {
		return false
	}
	p.budget[k]--
	return true
}

// set moves entry i to state to and records the change.
func (p *planner) set(i int, to score.State, why Reason) {
	e := &p.es[i]
	if p.out == nil {
		p.out = make([]Change, 0, 8) // room for a typical run's changes
	}
	p.out = append(p.out, Change{MonitorID: e.m.ID, From: e.state, To: to, Reason: why})
	p.count[e.state]--
	p.count[to]++
	e.state = to
	e.frozen = true
	e.inSet = to == score.Active || to == score.Testing
}

// worst is the lowest-ranked monitor in state st not changed in this run
// (-1 when none).
func (p *planner) worst(st score.State) int {
	for i := len(p.es) - 1; i >= 0; i-- {
		if p.es[i].state == st && !p.es[i].frozen {
			return i
		}
	}
	return -1
}

// best is the highest-ranked monitor in state from that may move to state
// to, with monitor without counted as gone (-1 when none).
func (p *planner) best(from, to score.State, without int) int {
	minPoints := p.cfg.MinPointsTesting
	if to == score.Active {
		minPoints = p.cfg.MinPointsActive
	}
	for i := range p.es {
		e := &p.es[i]
		if e.state != from || e.frozen || !e.static || e.m.Health.Points < minPoints {
			continue
		}
		if to == score.Active && (e.m.Global != GlobalActive || !e.healthy) {
			continue // only healthy, globally active monitors become active
		}
		if p.fits(i, to, without) {
			return i
		}
	}
	return -1
}

// beats reports whether x should replace w: a healthy monitor replaces an
// unhealthy one; otherwise x's priority must be lower by ReplaceRatio of
// w's and by ReplacePoints.
func (p *planner) beats(x, w int) bool {
	a, b := &p.es[x], &p.es[w]
	if a.healthy != b.healthy {
		return a.healthy
	}
	d := b.prio - a.prio
	return d >= p.cfg.ReplacePoints && d >= p.cfg.ReplaceRatio*b.prio
}

// fits reports whether entry i may be in state to next to the server's
// other active and testing monitors (not counting entry without): the
// per-account limits and the spread rule.
func (p *planner) fits(i int, to score.State, without int) bool {
	e := &p.es[i]
	acct := e.m.AccountID
	var active, testing int
	for j := range p.es {
		o := &p.es[j]
		if j == i || j == without || !o.inSet {
			continue
		}
		if e.spread.IsValid() && o.spread == e.spread {
			return false
		}
		if acct != 0 && o.m.AccountID == acct {
			if o.state == score.Active {
				active++
			} else {
				testing++
			}
		}
	}
	if acct == 0 {
		return true
	}
	c := p.cfg
	if to == score.Active && c.AccountMaxActive > 0 && active+1 > c.AccountMaxActive {
		return false
	}
	if to == score.Testing && c.AccountMaxTesting > 0 && testing+1 > c.AccountMaxTesting {
		return false
	}
	return c.AccountMaxTotal <= 0 || active+testing+1 <= c.AccountMaxTotal
}
