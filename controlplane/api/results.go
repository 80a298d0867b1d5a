package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ntppool-ng/ntppool/controlplane/clientip"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

func (s *Server) saveResults(w http.ResponseWriter, r *http.Request, m store.Monitor) {
	seen := store.MonitorTouch{MonitorID: m.ID, IP: clientip.Proxies(s.cfg.TrustedProxies).Client(r), Time: s.cfg.Now()}
	var res monitorapi.Results
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, monitorapi.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&res)
	switch {
	case err != nil:
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			err = refuse(http.StatusRequestEntityTooLarge, "body too large")
		} else {
			err = refuse(http.StatusBadRequest, "malformed JSON: "+err.Error())
		}
	case dec.More():
		err = refuse(http.StatusBadRequest, "malformed JSON: data after the object")
	}
	if err != nil {
		s.touchThenRefuse(w, r, seen, err)
		return
	}
	ack, err := s.submit(r.Context(), m, res, &seen)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ack)
}

// touchThenRefuse records a call refused before its batch reached a
// group (which records the others) and answers err.
func (s *Server) touchThenRefuse(w http.ResponseWriter, r *http.Request, seen store.MonitorTouch, err error) {
	if terr := s.st.TouchMonitor(r.Context(), seen.MonitorID, seen.IP, seen.Time); terr != nil {
		err = terr
	}
	s.writeError(w, r, err)
}

// Submit checks a batch whole and stores it; the Ack it returns is for a
// committed batch. Batches submitted at the same time are stored together
// in one transaction (see ingestQueue), each acknowledged after that
// commit; a batch refused for itself (older, or a server not assigned) is
// refused alone.
func (s *Server) Submit(ctx context.Context, m store.Monitor, res monitorapi.Results) (monitorapi.Ack, error) {
	return s.submit(ctx, m, res, nil)
}

// submit is Submit that also records the call seen (when not nil) as the
// monitor's last_seen, in the batch's transaction when it reaches one.
func (s *Server) submit(ctx context.Context, m store.Monitor, res monitorapi.Results, seen *store.MonitorTouch) (monitorapi.Ack, error) {
	err := s.validate(m, res)
	if err == nil && len(res.Results) == 0 {
		// No ticket vouches for the batch id: recorded as the monitor's
		// newest, a made-up "zzz…" would refuse every real batch as older.
		// There is nothing to store, so nothing to replay either.
		if seen != nil {
			if err := s.st.TouchMonitor(ctx, seen.MonitorID, seen.IP, seen.Time); err != nil {
				return monitorapi.Ack{}, err
			}
		}
		return monitorapi.Ack{BatchID: res.BatchID, Accepted: 0}, nil
	}
	if err != nil {
		if seen != nil {
			if terr := s.st.TouchMonitor(ctx, seen.MonitorID, seen.IP, seen.Time); terr != nil {
				return monitorapi.Ack{}, terr
			}
		}
		return monitorapi.Ack{}, err
	}
	job := &ingestJob{m: m, res: res, seen: seen, done: make(chan struct{})}
	if err := s.queue.submit(ctx, job, s.commitGroup); err != nil {
		return monitorapi.Ack{}, err
	}
	if job.err != nil {
		return monitorapi.Ack{}, job.err
	}
	if job.ack.Duplicate {
		s.stats.Duplicates.Add(1)
	} else {
		s.stats.Batches.Add(1)
		s.stats.Results.Add(int64(job.ack.Accepted))
	}
	if len(job.changed) > 0 {
		s.cfg.OnScores(job.changed)
	}
	return job.ack, nil
}

// ingestJob is one batch waiting for its group's commit.
type ingestJob struct {
	m       store.Monitor
	res     monitorapi.Results
	seen    *store.MonitorTouch // the call to record as last_seen, if any
	ack     monitorapi.Ack
	changed []int64 // servers whose overall score this batch updated
	err     error   // the batch's refusal, or the group's failure
	done    chan struct{}
}

// maxGroup bounds the batches of one transaction, so a commit (and the
// write lock it holds) stays short.
const maxGroup = 128

// ingestQueue is group commit without a long-lived goroutine: the request
// that finds no commit running becomes the committer and stores every
// batch waiting (its own among them) in one transaction; the others wait
// for their batch's commit. Batches that arrived meanwhile are stored by a
// goroutine that runs until the queue is empty, so the committer's own
// answer is not held up by later traffic. With many monitors submitting at
// once a commit carries many batches, and its statements many rows.
type ingestQueue struct {
	mu      sync.Mutex
	pending []*ingestJob
	running bool
}

// submit queues job and returns after its group's commit (job.err tells
// how it went), or when ctx ends first (the batch may still commit; a
// replay is then answered as a duplicate).
func (q *ingestQueue) submit(ctx context.Context, job *ingestJob, commit func(context.Context, []*ingestJob)) error {
	q.mu.Lock()
	q.pending = append(q.pending, job)
	if q.running {
		q.mu.Unlock()
		select {
		case <-job.done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("api: waiting for the commit of batch %s: %w", job.res.BatchID, ctx.Err())
		}
	}
	q.running = true
	q.mu.Unlock()
	// The committer's own request may end; the others' batches may not.
	ctx = context.WithoutCancel(ctx)
	if q.commitNext(ctx, commit) {
		go q.drain(ctx, commit)
	}
	return nil
}

// drain commits groups until none is waiting.
func (q *ingestQueue) drain(ctx context.Context, commit func(context.Context, []*ingestJob)) {
	for q.commitNext(ctx, commit) {
	}
}

// commitNext commits the next group of waiting batches (the running
// committer only) and reports whether more are waiting; when none are, the
// queue has no committer any more.
func (q *ingestQueue) commitNext(ctx context.Context, commit func(context.Context, []*ingestJob)) bool {
	q.mu.Lock()
	n := min(len(q.pending), maxGroup)
	group := q.pending[:n:n]
	q.pending = q.pending[n:]
	q.mu.Unlock()
	if n > 0 {
		commit(ctx, group)
		for _, j := range group {
			close(j.done)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		q.pending = nil
		q.running = false
		return false
	}
	return true
}

// commitGroup stores a group of batches in one transaction. Each job ends
// with its ack or its refusal; when the transaction fails, every job not
// refused before gets the error (nothing of the group was stored).
func (s *Server) commitGroup(ctx context.Context, jobs []*ingestJob) {
	var g *group
	err := s.st.InWriterTx(ctx, func(tx *store.Tx) error {
		for _, j := range jobs {
			j.ack, j.changed, j.err = monitorapi.Ack{}, nil, nil
		}
		var err error
		g, err = s.newGroup(ctx, tx, jobs)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if err := g.ingest(ctx, j); err != nil {
				if _, ok := errors.AsType[*apiError](err); !ok {
					return err
				}
				j.err, j.ack, j.changed = err, monitorapi.Ack{}, nil
			}
		}
		if err := g.write(ctx); err != nil {
			return err
		}
		return tx.TouchMonitors(ctx, touches(jobs))
	})
	if err == nil {
		s.stats.Commits.Add(1)
		s.pairs.committed(g)
	}
	if err != nil {
		s.pairs.drop()
		for _, j := range jobs {
			if j.err == nil || j.ack.Accepted > 0 {
				j.err, j.ack, j.changed = err, monitorapi.Ack{}, nil
			}
		}
	}
}

// touches is the newest call of each monitor among jobs, refused
// batches included: every authenticated call sets last_seen.
func touches(jobs []*ingestJob) []store.MonitorTouch {
	var ts []store.MonitorTouch
	for _, j := range jobs {
		if j.seen == nil {
			continue
		}
		i := slices.IndexFunc(ts, func(t store.MonitorTouch) bool { return t.MonitorID == j.seen.MonitorID })
		switch {
		case i < 0:
			ts = append(ts, *j.seen)
		case j.seen.Time.After(ts[i].Time):
			ts[i] = *j.seen
		}
	}
	return ts
}

// pairKey names a (monitor, server) pair.
type pairKey struct{ monitor, server int64 }

// monitorBatch names a monitor's batch.
type monitorBatch struct {
	monitor int64
	batch   string
}

// group is one transaction's batches: the servers and pairs they touch,
// read once and then kept in memory as the batches change them, and the
// rows to write at the end, many per statement.
type group struct {
	s       *Server
	tx      *store.Tx
	servers map[netip.Addr]*store.ProbeTarget
	pairs   map[pairKey]*store.IngestPair
	byServ  map[int64][]*store.IngestPair
	full    map[int64]bool // servers whose every pair is loaded
	// batches accepted in this group: results per batch, newest per monitor
	batches map[monitorBatch]int
	newest  map[int64]string
	stored  map[store.MonitorBatch]store.BatchState // as the group found them

	logs    []store.LogScore
	probes  []store.ProbeUpdate
	scores  map[int64]store.ScoreUpdate
	strata  map[int64]int
	records []store.BatchRecord
}

// newGroup reads what the jobs' results touch: their servers, each
// submitting monitor's pair, and the servers' active and testing pairs
// probed recently enough for the recent median's first two rules (the
// rest of a server's pairs is read only when those find nothing). On
// SQLite every pair of the servers comes from the pair cache, read only
// for servers it does not hold yet.
func (s *Server) newGroup(ctx context.Context, tx *store.Tx, jobs []*ingestJob) (*group, error) {
	g := &group{s: s, tx: tx, batches: map[monitorBatch]int{}, newest: map[int64]string{},
		scores: map[int64]store.ScoreUpdate{}, strata: map[int64]int{}, full: map[int64]bool{},
		pairs: map[pairKey]*store.IngestPair{}, byServ: map[int64][]*store.IngestPair{}}
	var own []store.MonitorIP
	oldest := time.Time{}
	for _, j := range jobs {
		for _, r := range j.res.Results {
			own = append(own, store.MonitorIP{MonitorID: j.m.ID, IP: r.IP})
			if oldest.IsZero() || r.Time.Before(oldest) {
				oldest = r.Time
			}
		}
	}
	var bs []store.MonitorBatch
	for _, j := range jobs {
		bs = append(bs, store.MonitorBatch{MonitorID: j.m.ID, BatchID: j.res.BatchID})
	}
	var err error
	if g.stored, err = tx.BatchStates(ctx, bs); err != nil {
		return nil, err
	}
	version, ok, err := tx.DataVersion(ctx)
	if err != nil {
		return nil, err
	}
	var targets map[netip.Addr]store.ProbeTarget
	if ok {
		s.pairs.check(version)
		if targets, err = tx.IngestServers(ctx, own); err != nil {
			return nil, err
		}
		if err := g.addCached(ctx, &s.pairs, targets, own); err != nil {
			return nil, err
		}
	} else {
		window := max(s.cfg.Score.ActiveWindow, s.cfg.Score.TestingWindow)
		var pairs []store.IngestPair
		if targets, pairs, err = tx.IngestView(ctx, own, oldest.Add(-window)); err != nil {
			return nil, err
		}
		g.addPairs(pairs)
	}
	g.servers = make(map[netip.Addr]*store.ProbeTarget, len(targets))
	for ip, t := range targets {
		g.servers[ip] = &t
	}
	return g, nil
}

// addCached gives the group every pair of the servers targets from the
// cache c (reading those of servers it does not hold): the cache's own
// pairs, which the group then changes in place (on a failed transaction
// the cache is emptied); own is the results' pairs, looked up by key.
func (g *group) addCached(ctx context.Context, c *pairCache, targets map[netip.Addr]store.ProbeTarget, own []store.MonitorIP) error {
	var missing []int64
	for _, t := range targets {
		if _, ok := c.byServ[t.ServerID]; !ok {
			missing = append(missing, t.ServerID)
		}
	}
	if len(missing) > 0 {
		ps, err := g.tx.PairsOfServers(ctx, missing)
		if err != nil {
			return err
		}
		c.add(missing, ps)
	}
	for _, t := range targets {
		g.byServ[t.ServerID] = slices.Clip(c.byServ[t.ServerID])
		g.full[t.ServerID] = true
	}
	for _, k := range own {
		t, ok := targets[k.IP.Unmap()]
		if !ok {
			continue
		}
		for _, p := range g.byServ[t.ServerID] {
			if p.MonitorID == k.MonitorID {
				g.pairs[pairKey{k.MonitorID, t.ServerID}] = p
				break
			}
		}
	}
	return nil
}

// pairCache holds, between group commits, every pair of the servers the
// groups touched, as stored after the last commit. Only the committer
// uses it (one at a time). It is exact while no other connection has
// committed: the writer connection's SQLite data version is unchanged
// (another instance, the web UI, a selection pass all change it and
// empty the cache). PostgreSQL has no such version, and no cache.
type pairCache struct {
	version int64
	byServ  map[int64][]*store.IngestPair // every pair of the server
}

// maxCachedServers bounds the cache (about 40 bytes a pair).
const maxCachedServers = 100_000

// check empties the cache unless version is the one it was filled at.
func (c *pairCache) check(version int64) {
	if c.byServ == nil || c.version != version || len(c.byServ) > maxCachedServers {
		c.byServ = map[int64][]*store.IngestPair{}
	}
	c.version = version
}

// drop empties the cache (a failed transaction).
func (c *pairCache) drop() { c.byServ = nil }

// add takes every pair of the servers ids, read from the store.
func (c *pairCache) add(ids []int64, ps []store.MonitorServer) {
	for _, id := range ids {
		c.byServ[id] = []*store.IngestPair{}
	}
	for _, p := range ps {
		c.byServ[p.ServerID] = append(c.byServ[p.ServerID], &store.IngestPair{MonitorID: p.MonitorID, ServerID: p.ServerID,
			State: p.State, Score: p.Score, LastProbe: p.LastProbe, LastRTT: p.LastRTT, LastStep: p.LastStep})
	}
}

// committed leaves the pairs the committed group g scored (the cache's
// own, changed in place) as RecordProbes stored them: times to the
// millisecond.
func (c *pairCache) committed(g *group) {
	if c.byServ == nil || g == nil {
		return
	}
	for _, u := range g.probes {
		if p := g.pairs[pairKey{u.MonitorID, u.ServerID}]; p != nil {
			p.LastProbe = time.UnixMilli(p.LastProbe.UnixMilli()).UTC()
		}
	}
}

// addPairs takes pairs read from the store into the group; one it holds
// already (maybe changed by a batch) stays as it is.
func (g *group) addPairs(ps []store.IngestPair) {
	for i := range ps {
		p := &ps[i]
		k := pairKey{p.MonitorID, p.ServerID}
		if g.pairs[k] != nil {
			continue
		}
		g.pairs[k] = p
		g.byServ[p.ServerID] = append(g.byServ[p.ServerID], p)
	}
}

// ingest checks one batch against what is stored (a replay, an older
// batch, a server not assigned) and scores it: each result against the
// pair's previous score, then the overall score of its server.
func (g *group) ingest(ctx context.Context, j *ingestJob) error {
	m, res := j.m, j.res
	j.ack = monitorapi.Ack{BatchID: res.BatchID}
	if n, ok := g.batches[monitorBatch{m.ID, res.BatchID}]; ok {
		j.ack.Accepted, j.ack.Duplicate = n, true
		return nil
	}
	st, ok := g.stored[store.MonitorBatch{MonitorID: m.ID, BatchID: res.BatchID}]
	if !ok {
		return refuse(http.StatusForbidden, "monitor no longer exists") // deleted since its token was checked
	}
	if st.Seen {
		j.ack.Accepted, j.ack.Duplicate = st.Accepted, true
		return nil
	}
	last := max(st.Last, g.newest[m.ID])
	switch {
	case res.BatchID == last:
		// Committed before and forgotten by retention: still a replay.
		j.ack.Duplicate = true
		return nil
	case res.BatchID < last:
		return refuse(http.StatusConflict, fmt.Sprintf("batch %s is older than the last one submitted", res.BatchID))
	}
	results := slices.Clone(res.Results)
	slices.SortStableFunc(results, func(a, b monitorapi.Result) int { return a.Time.Compare(b.Time) })
	for _, r := range results {
		if t, ok := g.servers[r.IP.Unmap()]; ok && g.pairs[pairKey{m.ID, t.ServerID}] == nil {
			return refuse(http.StatusForbidden, fmt.Sprintf("server %s is not assigned to this monitor", r.IP))
		}
	}
	for _, r := range results {
		t, ok := g.servers[r.IP.Unmap()]
		if !ok {
			continue // deleted since it was handed out: nothing to score
		}
		if err := g.score(ctx, j, t, g.pairs[pairKey{m.ID, t.ServerID}], r); err != nil {
			return err
		}
	}
	j.ack.Accepted = len(res.Results)
	g.batches[monitorBatch{m.ID, res.BatchID}] = len(res.Results)
	g.newest[m.ID] = res.BatchID
	g.records = append(g.records, store.BatchRecord{MonitorID: m.ID, BatchID: res.BatchID, Accepted: len(res.Results)})
	return nil
}

// score applies one result: the pair's new score, its history row, and
// the server's overall score when the result is newer than the server's
// last overall-score update.
func (g *group) score(ctx context.Context, j *ingestJob, t *store.ProbeTarget, p *store.IngestPair, r monitorapi.Result) error {
	cfg := g.s.cfg
	step := cfg.Score.Step(score.FromResult(r))
	sc := cfg.Score.Next(p.Score, step)
	off := r.Offset
	if step.DropOffset {
		off = nil
	}
	g.logs = append(g.logs, store.LogScore{ServerID: t.ServerID, MonitorID: p.MonitorID, Time: r.Time,
		Step: step.Value, Score: sc, Offset: off, RTT: r.RTT, Leap: r.Leap, Error: resultError(r)})
	g.probes = append(g.probes, store.ProbeUpdate{MonitorID: p.MonitorID, ServerID: t.ServerID, Score: sc,
		Step: step.Value, Time: r.Time, RTT: r.RTT})
	p.Score, p.LastProbe, p.LastStep, p.LastRTT = sc, r.Time, step.Value, 0
	if r.RTT != nil {
		p.LastRTT = *r.RTT
	}
	if r.Stratum >= 1 && r.Stratum <= 15 && r.Stratum != t.Stratum {
		t.Stratum = r.Stratum
		g.strata[t.ServerID] = r.Stratum
	}
	// A result not newer than the server's overall score leaves it alone:
	// results arrive late and out of order.
	if !t.LastScoreUpdate.IsZero() && !r.Time.After(t.LastScoreUpdate) {
		return nil
	}
	chosen, ok, err := g.recentMedian(ctx, t.ServerID, r.Time)
	if err != nil || !ok {
		return err
	}
	if chosen.Score != t.Score || t.LastScoreUpdate.IsZero() {
		var rtt *float64
		if chosen.RTT > 0 {
			v := chosen.RTT.Seconds()
			rtt = &v
		}
		g.logs = append(g.logs, store.LogScore{ServerID: t.ServerID, Time: r.Time, Step: chosen.Step, Score: chosen.Score, RTT: rtt})
	}
	t.Score, t.LastScoreUpdate = chosen.Score, r.Time
	g.scores[t.ServerID] = store.ScoreUpdate{ServerID: t.ServerID, Score: chosen.Score, Time: r.Time}
	j.changed = append(j.changed, t.ServerID)
	return nil
}

// recentMedian is the server's overall score at time at, from each
// monitor's newest score at or before at. When no active or testing
// monitor qualifies, the server's other pairs are read for the last rule.
func (g *group) recentMedian(ctx context.Context, serverID int64, at time.Time) (score.MonitorScore, bool, error) {
	var buf [16]score.MonitorScore
	rows, err := g.rows(ctx, buf[:0], serverID, at)
	if err != nil {
		return score.MonitorScore{}, false, err
	}
	if !g.full[serverID] && !g.activeOrTesting(rows, at) {
		ps, err := g.tx.PairsOfServers(ctx, []int64{serverID})
		if err != nil {
			return score.MonitorScore{}, false, err
		}
		for _, p := range ps {
			g.addPairs([]store.IngestPair{{MonitorID: p.MonitorID, ServerID: p.ServerID, State: p.State, Score: p.Score,
				LastProbe: p.LastProbe, LastRTT: p.LastRTT, LastStep: p.LastStep}})
		}
		g.full[serverID] = true
		if rows, err = g.rows(ctx, rows[:0], serverID, at); err != nil {
			return score.MonitorScore{}, false, err
		}
	}
	chosen, ok := g.s.cfg.Score.RecentMedian(at, rows)
	return chosen, ok, nil
}

// activeOrTesting reports whether a row counts for the recent median's
// first two rules, those the pairs read up front serve.
func (g *group) activeOrTesting(rows []score.MonitorScore, at time.Time) bool {
	since := at.Add(-max(g.s.cfg.Score.ActiveWindow, g.s.cfg.Score.TestingWindow))
	for _, r := range rows {
		if (r.State == score.Active || r.State == score.Testing) && !r.Time.Before(since) {
			return true
		}
	}
	return false
}

// rows appends each of the server's monitors' newest score at or before
// at: the pair's current one, or for a pair scored after at (rare: its
// result did not move the overall score), its history row.
func (g *group) rows(ctx context.Context, rows []score.MonitorScore, serverID int64, at time.Time) ([]score.MonitorScore, error) {
	for _, p := range g.byServ[serverID] {
		st, err := score.ParseState(p.State)
		if err != nil || p.LastProbe.IsZero() {
			continue
		}
		row := score.MonitorScore{MonitorID: p.MonitorID, State: st, Score: p.Score, Step: p.LastStep,
			RTT: time.Duration(p.LastRTT * float64(time.Second)), Time: p.LastProbe}
		if p.LastProbe.After(at) {
			old, ok, err := g.tx.PairScoreAt(ctx, p.MonitorID, serverID, at)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			row.Score, row.Step, row.Time = old.Score, old.Step, old.Time
			row.RTT = time.Duration(old.RTT * float64(time.Second))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// write stores what the group's batches changed, a few statements for the
// whole group.
func (g *group) write(ctx context.Context) error {
	if err := g.tx.RecordProbes(ctx, g.probes, g.s.cfg.Assign.HealthWindow); err != nil {
		return err
	}
	for id, st := range g.strata {
		if err := g.tx.SetServerStratum(ctx, id, st); err != nil {
			return err
		}
	}
	scores := make([]store.ScoreUpdate, 0, len(g.scores))
	for _, u := range g.scores {
		scores = append(scores, u)
	}
	if err := g.tx.SetServerScores(ctx, scores); err != nil {
		return err
	}
	if err := g.tx.AddLogScores(ctx, g.logs); err != nil {
		return err
	}
	return g.tx.RecordBatches(ctx, g.records, g.s.cfg.Now())
}

// Bounds of a result's numbers. Beyond them a value is a forgery or a bug,
// and storing it would overflow the score pages' arithmetic (a rounded
// 1e300 is +Inf, which JSON cannot carry). An NTP era is 2^32 seconds, so
// no real clock is further off; no probe waits an hour for its answer.
const (
	maxOffset float64 = 1 << 32 // seconds
	maxRTT    float64 = 3600    // seconds
)

// validate refuses a batch that can never be stored, before any write.
func (s *Server) validate(m store.Monitor, res monitorapi.Results) error {
	bad := func(format string, a ...any) error { return refuse(http.StatusBadRequest, fmt.Sprintf(format, a...)) }
	if res.BatchID == "" || len(res.BatchID) > 64 {
		return bad("batch_id missing or longer than 64 characters")
	}
	if len(res.Results) > s.cfg.BatchMax {
		return refuse(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("%d results in one batch, at most %d", len(res.Results), s.cfg.BatchMax))
	}
	future := s.cfg.Now().Add(s.cfg.MaxFuture)
	// No probe finishes before its batch was handed out: an earlier stamp
	// would score the server with its time window counted back from a
	// moment long gone. The same slack as for the future allows for clocks.
	past := batchTime(res.BatchID).Add(-s.cfg.MaxFuture)
	seen := make(map[netip.Addr]bool, len(res.Results))
	for i, r := range res.Results {
		switch {
		case !r.IP.IsValid():
			return bad("result %d: missing ip", i)
		case seen[r.IP.Unmap()]:
			return bad("result %d: %s twice in one batch", i, r.IP)
		case r.Time.IsZero() || r.Time.After(future):
			return bad("result %d: ts missing or in the future", i)
		case r.Time.Before(past):
			return bad("result %d: ts before the batch was handed out", i)
		case r.Offset != nil && !(math.Abs(*r.Offset) <= maxOffset):
			return bad("result %d: offset is not a number of seconds within %g", i, maxOffset)
		case r.RTT != nil && !(*r.RTT >= 0 && *r.RTT <= maxRTT):
			return bad("result %d: rtt is not a number of seconds from 0 to %g", i, maxRTT)
		case r.Stratum < 0 || r.Stratum > 255 || r.Leap < 0 || r.Leap > 3:
			return bad("result %d: stratum or leap out of range", i)
		case len(r.Error) > 1024 || len(r.RefID) > 64 || len(r.KissCode) > 8:
			return bad("result %d: text field too long", i)
		}
		seen[r.IP.Unmap()] = true
	}
	for i, r := range res.Results {
		if !validTicket(s.cfg.TicketKey, m.ID, res.BatchID, r.IP, r.Ticket) {
			return refuse(http.StatusForbidden, fmt.Sprintf("result %d: ticket for %s is not valid for this monitor and batch", i, r.IP))
		}
	}
	return nil
}

// resultError is the error text kept in history: the monitor's text, or a
// short one for no response and kiss codes when it sent none. A monitor's
// text is shown on public pages and in CSV, so it is kept to printable
// characters on one line (the CSV writer also escapes a leading = + - @).
func resultError(r monitorapi.Result) string {
	switch {
	case r.Error != "":
		return printable(r.Error)
	case r.NoResponse:
		return "no response"
	case r.KissCode != "":
		return "kiss of death " + r.KissCode
	}
	return ""
}

// printable drops control and other non-printing characters, and invalid
// UTF-8, from monitor-supplied text.
func printable(v string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, v)
}
