package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// BenchmarkIngest stores batches of BatchMax (10) results, each batch one
// transaction as in production, and reports results per second, on each
// store backend.
func BenchmarkIngest(b *testing.B) { onEveryBackend(b, benchIngest) }

func benchIngest(b *testing.B, dsn string) {
	f := newFixtureOn(b, dsn, 200, nil)
	m := f.mons["a"]
	ctx := context.Background()
	off, rtt := 0.001, 0.002
	batch := 0
	b.ReportAllocs()
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		batch++
		id := fmt.Sprintf("%016x", batch)
		res := monitorapi.Results{BatchID: id}
		for i := range 10 {
			s := f.servers[(batch*10+i)%len(f.servers)]
			res.Results = append(res.Results, monitorapi.Result{IP: s.IP, Ticket: ticket(f.api.cfg.TicketKey, m.ID, id, s.IP),
				Time: time.Now(), Offset: &off, RTT: &rtt, Stratum: 2})
		}
		if _, err := f.api.Submit(ctx, m, res); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, batch*10, start, cpu0)
}

// BenchmarkIngestHTTP is ingestion end to end through the HTTP API (auth,
// JSON, tickets, the handler, the store): ingestMonitors monitors post
// batches of 10 at once, each from its own goroutine, as a pool's monitors
// would; it reports results per second, on each store backend.
func BenchmarkIngestHTTP(b *testing.B) { onEveryBackend(b, benchIngestHTTP) }

func benchIngestHTTP(b *testing.B, dsn string) {
	const ingestMonitors = 32
	f := newFixtureOn(b, dsn, 200, nil)
	ctx := context.Background()
	var mons []store.Monitor
	for i := range ingestMonitors {
		tok := fmt.Sprint("tok-h", i)
		id, err := f.st.CreateMonitor(ctx, store.Monitor{Name: fmt.Sprint("h", i), TokenHash: store.HashToken(tok), State: store.MonitorActive})
		if err != nil {
			b.Fatal(err)
		}
		err = f.st.InTx(ctx, func(tx *store.Tx) error {
			for k, s := range f.servers {
				// As selection leaves them: 7 active, 5 testing, the rest
				// candidates on every server.
				state := store.PairCandidate
				switch (k + i) % ingestMonitors {
				case 0, 1, 2, 3, 4, 5, 6:
					state = store.PairActive
				case 7, 8, 9, 10, 11:
					state = store.PairTesting
				}
				if _, err := tx.AddMonitorServer(ctx, id, s.ID, state, time.Now()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		m, _ := f.st.Monitor(ctx, id)
		mons = append(mons, m)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * ingestMonitors}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	off, rtt := 0.001, 0.002
	b.ReportAllocs()
	start, cpu0 := time.Now(), cpuTime()
	b.SetParallelism((ingestMonitors + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var who atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		m := mons[(who.Add(1)-1)%int64(len(mons))]
		tok := "tok-h" + m.Name[1:]
		batch := 0
		for pb.Next() {
			batch++
			id := fmt.Sprintf("%016x-%08d", time.Now().UnixNano(), batch)
			res := monitorapi.Results{BatchID: id}
			for i := range 10 {
				s := f.servers[(batch*10+i)%len(f.servers)]
				res.Results = append(res.Results, monitorapi.Result{IP: s.IP, Ticket: ticket(f.api.cfg.TicketKey, m.ID, id, s.IP),
					Time: time.Now(), Offset: &off, RTT: &rtt, Stratum: 2})
			}
			body, _ := json.Marshal(res)
			req, _ := http.NewRequest("POST", f.url+monitorapi.PathResults, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			next.Add(10)
		}
	})
	reportRates(b, int(next.Load()), start, cpu0)
	b.ReportMetric(float64(f.api.Stats().Batches.Load())/float64(max(f.api.Stats().Commits.Load(), 1)), "batches/commit")
}

// reportRates reports results per second of wall time, and per second of
// this process's CPU time: on a machine shared with other work the wall
// rate understates what the code does, and 2 x results/cpu-s bounds what
// two idle cores would do.
func reportRates(b *testing.B, results int, start time.Time, cpu0 time.Duration) {
	b.ReportMetric(float64(results)/time.Since(start).Seconds(), "results/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(results)/cpu.Seconds(), "results/cpu-s")
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
