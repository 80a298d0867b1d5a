package api

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/monitorapi"
)

// BenchmarkIngest stores batches of BatchMax (10) results, each batch one
// transaction as in production, and reports results per second.
func BenchmarkIngest(b *testing.B) {
	f := newFixtureTB(b, 200, nil)
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
