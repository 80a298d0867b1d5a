package cluster

import (
	"context"
	"flag"
	"testing"
	"time"
)

var long = flag.Bool("cluster.long", false, "run each phase of the cluster test for 30 s instead of 2 s")

// TestClusterSurvivesOneFailureAtATime starts the loopback cluster and,
// under DNS and monitor load, kills the leading control plane, the etcd
// leader and one CoreDNS: no surviving CoreDNS misses an answer, the other
// control plane leads within the lease TTL + 1 s, no acknowledged result
// is lost, and score changes keep reaching every CoreDNS.
//
//	go test ./internal/cluster -v                      # about 45 s, 2 s phases
//	go test ./internal/cluster -v -args -cluster.long  # phases of 30 s
func TestClusterSurvivesOneFailureAtATime(t *testing.T) {
	ctx := context.Background()
	c, err := Start(ctx, Config{Dir: t.TempDir(), Log: t.Output()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	cfg := RunConfig{Phase: 2 * time.Second}
	if *long {
		cfg.Phase = 30 * time.Second
	}
	f, err := c.Run(ctx, cfg)
	t.Logf("figures (phases of %v):\n%s", cfg.Phase, f)
	if err != nil {
		t.Fatal(err)
	}
	if f.DNSLostSurvivor != 0 || f.DNSClientFailed != 0 {
		t.Errorf("DNS answers lost: %d at surviving servers, %d clients without an answer", f.DNSLostSurvivor, f.DNSClientFailed)
	}
	if f.LeaderTakeover >= f.LeaseTTL+time.Second {
		t.Errorf("new leader after %v, want under the lease TTL %v + 1 s", f.LeaderTakeover, f.LeaseTTL)
	}
	if f.ResultsLost != 0 || f.ResultsAcked == 0 {
		t.Errorf("%d of %d acknowledged results lost", f.ResultsLost, f.ResultsAcked)
	}
	for _, p := range f.ScoreToDNS {
		if p.Took > 5*time.Second {
			t.Errorf("score change to every CoreDNS %s took %v, want under 5 s", p.Phase, p.Took)
		}
	}
}
