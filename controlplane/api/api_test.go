package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

type fixture struct {
	st      *store.Store
	api     *Server
	url     string
	servers []store.Server
	mons    map[string]store.Monitor
	changed chan []int64
}

// newFixture: servers 127.0.0.2..(1+nServers), monitors "a" and "b" (active,
// tokens "tok-a", "tok-b") each with an active pair on every server.
func newFixture(t *testing.T, nServers int, mutate func(*Config)) *fixture {
	return newFixtureTB(t, nServers, mutate)
}

func newFixtureTB(t testing.TB, nServers int, mutate func(*Config)) *fixture {
	t.Helper()
	return newFixtureOn(t, filepath.Join(t.TempDir(), "api.db"), nServers, mutate)
}

// newFixtureOn is newFixtureTB on the store at dsn (SQLite or PostgreSQL).
func newFixtureOn(t testing.TB, dsn string, nServers int, mutate func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, mons: map[string]store.Monitor{}, changed: make(chan []int64, 1000)}
	acct, _ := st.CreateAccount(ctx, "owner")
	for i := range nServers {
		ip := netip.AddrFrom4([4]byte{127, 0, byte((2 + i) >> 8), byte(2 + i)})
		id, err := st.CreateServer(ctx, store.Server{IP: ip, AccountID: acct, Netspeed: 1000, InPool: true})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := st.Server(ctx, id)
		f.servers = append(f.servers, s)
	}
	for _, name := range []string{"a", "b"} {
		id, err := st.CreateMonitor(ctx, store.Monitor{Name: name, TokenHash: store.HashToken("tok-" + name), State: store.MonitorActive})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range f.servers {
			if _, err := st.AddMonitorServer(ctx, id, s.ID, store.PairActive, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		f.mons[name], _ = st.Monitor(ctx, id)
	}
	cfg := Config{Score: score.DefaultConfig(), Assign: assign.Local(), TicketKey: []byte("0123456789abcdef0123456789abcdef"),
		AllowPrivate: true, OnScores: func(ids []int64) {
			select {
			case f.changed <- ids:
			default: // a benchmark does not read them
			}
		}}
	// Fast clock: every pair is due at once unless a test says otherwise.
	cfg.Assign.MinRescore, cfg.Assign.ActiveInterval, cfg.Assign.TestingInterval = 0, 0, 0
	if mutate != nil {
		mutate(&cfg)
	}
	f.api = New(st, cfg)
	hs := httptest.NewServer(f.api.Handler())
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

func (f *fixture) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, f.url+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

func (f *fixture) work(t *testing.T, token string) monitorapi.Work {
	t.Helper()
	code, body := f.do(t, "POST", monitorapi.PathWork, token, nil)
	if code != 200 {
		t.Fatalf("work: %d %s", code, body)
	}
	var w monitorapi.Work
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func good(w monitorapi.Work, off float64) monitorapi.Results {
	res := monitorapi.Results{BatchID: w.BatchID}
	rtt := 0.001
	for _, a := range w.Servers {
		o := off
		res.Results = append(res.Results, monitorapi.Result{IP: a.IP, Ticket: a.Ticket, Time: time.Now(),
			Offset: &o, RTT: &rtt, Stratum: 2})
	}
	return res
}

func (f *fixture) logRows(t *testing.T) int64 {
	n, err := f.st.CountLogScores(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestResultsRaiseScoreAndAckAfterCommit(t *testing.T) {
	f := newFixture(t, 3, nil)
	var ack monitorapi.Ack
	for i := range 14 {
		w := f.work(t, "tok-a")
		if len(w.Servers) != 3 {
			t.Fatalf("round %d: %d servers handed out, want 3", i, len(w.Servers))
		}
		code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", good(w, 0.001))
		if code != 200 {
			t.Fatalf("results: %d %s", code, body)
		}
		json.Unmarshal(body, &ack)
	}
	if ack.Accepted != 3 || ack.Duplicate {
		t.Fatalf("ack %+v", ack)
	}
	s, _ := f.st.Server(context.Background(), f.servers[0].ID)
	// 14 perfect probes take a new server from 0 to just over 10 (POOL.md).
	if s.Score < 10 || s.Score > 10.3 {
		t.Fatalf("overall score after 14 perfect probes = %v, want just over 10", s.Score)
	}
	if len(f.changed) == 0 {
		t.Fatal("OnScores never called")
	}
}

func TestRejections(t *testing.T) {
	f := newFixture(t, 2, func(c *Config) { c.BatchMax = 2 })
	wa := f.work(t, "tok-a")
	wb := f.work(t, "tok-b")

	forged := good(wa, 0)
	forged.Results[0].Ticket = "AAAA" + forged.Results[0].Ticket[4:]
	otherMonitor := good(wb, 0) // b's tickets posted by a
	wrongBatch := good(wa, 0)
	wrongBatch.BatchID = wb.BatchID
	huge := good(wa, 0)
	huge.Results = append(huge.Results, huge.Results[0])
	huge.Results[2].IP = netip.MustParseAddr("127.0.0.9")
	twice := good(wa, 0)
	twice.Results[1] = twice.Results[0]
	nan := good(wa, 0)
	future := good(wa, 0)
	future.Results[0].Time = time.Now().Add(time.Hour)

	before := f.logRows(t)
	cases := []struct {
		name, path, token string
		body              any
		want              int
	}{
		{"no token", monitorapi.PathConfig, "", nil, 401},
		{"forged token", monitorapi.PathConfig, "tok-forged", nil, 401},
		{"forged token on results", monitorapi.PathResults, "tok-x", good(wa, 0), 401},
		{"wrong ticket", monitorapi.PathResults, "tok-a", forged, 403},
		{"server not assigned to this monitor", monitorapi.PathResults, "tok-a", otherMonitor, 403},
		{"ticket of another batch", monitorapi.PathResults, "tok-a", wrongBatch, 403},
		{"too many results", monitorapi.PathResults, "tok-a", huge, 413},
		{"body too large", monitorapi.PathResults, "tok-a", bytes.Repeat([]byte(" "), monitorapi.MaxBodyBytes+10), 413},
		{"malformed JSON", monitorapi.PathResults, "tok-a", []byte(`{"batch_id": "x", "results": [`), 400},
		{"unknown field", monitorapi.PathResults, "tok-a", []byte(`{"batch_id": "x", "results": [], "extra": 1}`), 400},
		{"trailing data", monitorapi.PathResults, "tok-a", []byte(`{"batch_id": "x", "results": []} {}`), 400},
		{"no batch id", monitorapi.PathResults, "tok-a", monitorapi.Results{}, 400},
		{"same server twice", monitorapi.PathResults, "tok-a", twice, 400},
		{"result from the future", monitorapi.PathResults, "tok-a", future, 400},
		{"bad offset", monitorapi.PathResults, "tok-a", []byte(strings.Replace(mustJSON(nan), `"offset":0`, `"offset":"x"`, 1)), 400},
	}
	for _, tc := range cases {
		method := "POST"
		if tc.path == monitorapi.PathConfig {
			method = "GET"
		}
		code, body := f.do(t, method, tc.path, tc.token, tc.body)
		if code != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, code, body, tc.want)
		}
		var e monitorapi.Error
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%s: body %q is not an Error", tc.name, body)
		}
	}
	if after := f.logRows(t); after != before {
		t.Fatalf("refused batches stored %d rows", after-before)
	}

	// A paused monitor may not fetch work.
	f.st.SetMonitorState(context.Background(), f.mons["b"].ID, store.MonitorPaused)
	if code, _ := f.do(t, "POST", monitorapi.PathWork, "tok-b", nil); code != 403 {
		t.Errorf("paused monitor: %d, want 403", code)
	}
}

// A forged result with huge (finite) numbers is refused whole: stored, it
// would overflow the score pages' rounding into +Inf.
func TestRejectsHugeNumbers(t *testing.T) {
	f := newFixture(t, 1, nil)
	before := f.logRows(t)
	for _, tc := range []struct {
		name        string
		offset, rtt float64
	}{
		{"huge offset", 1e300, 0.001},
		{"huge negative offset", -1e300, 0.001},
		{"huge rtt", 0, 1e300},
	} {
		res := good(f.work(t, "tok-a"), tc.offset)
		res.Results[0].RTT = &tc.rtt
		if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", res); code != 400 {
			t.Errorf("%s: status %d (%s), want 400", tc.name, code, body)
		}
	}
	if after := f.logRows(t); after != before {
		t.Fatalf("refused batches stored %d rows", after-before)
	}
	// An offset of years (a server whose clock is far off) is still a result.
	res := good(f.work(t, "tok-a"), -3e9)
	if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", res); code != 200 {
		t.Fatalf("offset of -3e9 s: status %d (%s), want 200", code, body)
	}
}

// A result stamped long before its batch was handed out is refused: the
// overall score counts its time window back from that stamp.
func TestRejectsResultOlderThanItsBatch(t *testing.T) {
	f := newFixture(t, 2, nil)
	before := f.logRows(t)
	res := good(f.work(t, "tok-a"), 0.001)
	res.Results[1].Time = time.Now().Add(-2 * time.Hour)
	if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", res); code != 400 {
		t.Fatalf("backdated result: status %d (%s), want 400", code, body)
	}
	if after := f.logRows(t); after != before {
		t.Fatalf("refused batch stored %d rows", after-before)
	}
	// A few seconds of clock difference is fine.
	res = good(f.work(t, "tok-a"), 0.001)
	res.Results[0].Time = time.Now().Add(-5 * time.Second)
	if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", res); code != 200 {
		t.Fatalf("result 5 s before the handout: status %d (%s), want 200", code, body)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestReplayAndOlderBatch(t *testing.T) {
	f := newFixture(t, 2, nil)
	w1 := f.work(t, "tok-a")
	w2 := f.work(t, "tok-a")
	if w2.BatchID <= w1.BatchID {
		t.Fatalf("batch ids not increasing: %s then %s", w1.BatchID, w2.BatchID)
	}
	r2 := good(w2, 0.002)
	if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", r2); code != 200 {
		t.Fatalf("first post: %d %s", code, body)
	}
	rows := f.logRows(t)
	code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", r2)
	var ack monitorapi.Ack
	json.Unmarshal(body, &ack)
	if code != 200 || !ack.Duplicate || ack.Accepted != 2 {
		t.Fatalf("replay: %d %s, want 200 duplicate accepted=2", code, body)
	}
	if got := f.logRows(t); got != rows {
		t.Fatalf("replay stored %d more rows", got-rows)
	}
	if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", good(w1, 0)); code != 409 {
		t.Fatalf("older batch: %d %s, want 409", code, body)
	}
}

// An empty batch carries no ticket, so its id is unchecked: it must not
// become the monitor's newest, or every real batch after it is "older".
func TestEmptyBatchWithMadeUpIDDoesNotBlockRealBatches(t *testing.T) {
	f := newFixture(t, 2, nil)
	empty := monitorapi.Results{BatchID: strings.Repeat("z", 64), Results: []monitorapi.Result{}}
	if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", empty); code != 200 {
		t.Fatalf("empty batch: %d %s, want 200", code, body)
	}
	w := f.work(t, "tok-a")
	if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", good(w, 0.001)); code != 200 {
		t.Fatalf("real batch after an empty one with a made-up id: %d %s, want 200", code, body)
	}
	m, err := f.st.Monitor(context.Background(), f.mons["a"].ID)
	if err != nil || m.LastBatchID != w.BatchID {
		t.Fatalf("newest batch %q (%v), want %q", m.LastBatchID, err, w.BatchID)
	}
}

func TestWorkRespectsIntervalsAndRescoreGap(t *testing.T) {
	now := time.Now()
	f := newFixture(t, 2, func(c *Config) {
		c.Now = func() time.Time { return now }
		c.Assign.MinRescore, c.Assign.ActiveInterval = time.Minute, 9*time.Minute
	})
	w := f.work(t, "tok-a")
	if len(w.Servers) != 2 {
		t.Fatalf("first work: %d servers", len(w.Servers))
	}
	if code, body := f.do(t, "POST", monitorapi.PathResults, "tok-a", good(w, 0)); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	// Monitor b's pairs were never handed out, but the servers were just
	// scored: nothing within MinRescore.
	if w := f.work(t, "tok-b"); len(w.Servers) != 0 || w.NextPoll.D() < 10*time.Second || w.NextPoll.D() > time.Minute {
		t.Fatalf("work within the rescore gap: %+v", w)
	}
	now = now.Add(61 * time.Second)
	if w := f.work(t, "tok-b"); len(w.Servers) != 2 {
		t.Fatalf("work after the gap: %d servers, want 2", len(w.Servers))
	}
	// Monitor a handed out 61 s ago: its active interval (9 min) not over.
	if w := f.work(t, "tok-a"); len(w.Servers) != 0 {
		t.Fatalf("monitor a got %d servers before its interval", len(w.Servers))
	}
}
