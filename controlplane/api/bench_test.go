package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
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
	start := time.Now()
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
	b.ReportMetric(float64(batch*10)/time.Since(start).Seconds(), "results/s")
}

// BenchmarkIngestHTTP is the same through the HTTP API (auth, JSON, the
// handler) with 4 monitors posting at once, as several monitors would.
func BenchmarkIngestHTTP(b *testing.B) { onEveryBackend(b, benchIngestHTTP) }

func benchIngestHTTP(b *testing.B, dsn string) {
	f := newFixtureOn(b, dsn, 200, nil)
	ctx := context.Background()
	var mons []store.Monitor
	for i := range 4 {
		tok := fmt.Sprint("tok-h", i)
		id, err := f.st.CreateMonitor(ctx, store.Monitor{Name: fmt.Sprint("h", i), TokenHash: store.HashToken(tok), State: store.MonitorActive})
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range f.servers {
			f.st.AddMonitorServer(ctx, id, s.ID, store.PairActive, time.Now())
		}
		m, _ := f.st.Monitor(ctx, id)
		mons = append(mons, m)
	}
	var next atomic.Int64
	off, rtt := 0.001, 0.002
	start := time.Now()
	b.SetParallelism(1) // 2 CPUs x 1 = 2 goroutines; each picks a monitor
	var who atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		m := mons[who.Add(1)%int64(len(mons))]
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
			resp, err := http.DefaultClient.Do(req)
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
	b.ReportMetric(float64(next.Load())/time.Since(start).Seconds(), "results/s")
}
