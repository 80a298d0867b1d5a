package agent

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ntppool-ng/ntppool/monitor/client"
	"github.com/ntppool-ng/ntppool/monitor/metrics"
	"github.com/ntppool-ng/ntppool/monitor/queue"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// scriptAPI is an in-memory API for runs on synctest's fake clock. Its work
// holds documentation addresses, which the prober refuses without sending a
// packet, so no network is involved.
type scriptAPI struct {
	mu      sync.Mutex
	start   time.Time
	cfg     monitorapi.Config
	workErr error
	// configErrs are answered to the first config requests, in turn.
	configErrs []error
	batches    int // batches still to hand out
	configAt   []time.Duration
	workAt     []time.Duration
	submits    []monitorapi.Results
	submitAt   []time.Duration
}

func (s *scriptAPI) Config(context.Context) (monitorapi.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.configAt = append(s.configAt, time.Since(s.start))
	if len(s.configErrs) > 0 {
		err := s.configErrs[0]
		s.configErrs = s.configErrs[1:]
		return monitorapi.Config{}, err
	}
	return s.cfg, nil
}

func (s *scriptAPI) Work(context.Context) (monitorapi.Work, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workAt = append(s.workAt, time.Since(s.start))
	if s.workErr != nil {
		return monitorapi.Work{}, s.workErr
	}
	if s.batches == 0 {
		return monitorapi.Work{NextPoll: monitorapi.Duration(7 * time.Second)}, nil
	}
	s.batches--
	w := monitorapi.Work{BatchID: time.Now().Format(time.RFC3339Nano)}
	for i := range 3 {
		w.Servers = append(w.Servers, monitorapi.Assignment{IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}), Ticket: "t"})
	}
	return w, nil
}

func (s *scriptAPI) Submit(_ context.Context, r monitorapi.Results) (monitorapi.Ack, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.submits = append(s.submits, r)
	s.submitAt = append(s.submitAt, time.Since(s.start))
	return monitorapi.Ack{BatchID: r.BatchID, Accepted: len(r.Results)}, nil
}

// runFor runs an agent on api for d of fake time, then stops it.
func runFor(t *testing.T, api *scriptAPI, d time.Duration, edit func(*Options)) {
	t.Helper()
	q, err := queue.Open(t.TempDir(), 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{API: api, Queue: q, Metrics: metrics.New(prometheus.NewRegistry()),
		Log:         slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError})),
		Concurrency: 4, Jitter: 2 * time.Second, SkipClockCheck: true, Rand: rand.New(rand.NewPCG(1, 2))}
	if edit != nil {
		edit(&opt)
	}
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	api.start = time.Now()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	time.Sleep(d) // fake time: the bubble's clock advances when all its goroutines wait
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func baseConfig() monitorapi.Config {
	c := fastConfig()
	c.AllowPrivate = false
	c.IdlePoll = monitorapi.Duration(30 * time.Second)
	return c
}

func TestWorkPollingFollowsNextPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &scriptAPI{cfg: baseConfig(), batches: 1}
		runFor(t, api, 60*time.Second, nil)
		// The batch at 0 s, at once the next ask (nothing due), then every 7 s.
		want := []time.Duration{0, 0}
		for s := 7 * time.Second; s < 60*time.Second; s += 7 * time.Second {
			want = append(want, s)
		}
		if len(api.workAt) != len(want) {
			t.Fatalf("work asked at %v, want %v", api.workAt, want)
		}
		for i := range want {
			if api.workAt[i] != want[i] {
				t.Fatalf("work asked at %v, want %v", api.workAt, want)
			}
		}
		// The batch went out once all its probes (refused targets: no
		// packets) passed their start jitter of at most 2 s.
		if len(api.submits) != 1 || len(api.submits[0].Results) != 3 || api.submitAt[0] >= 2*time.Second {
			t.Fatalf("submits %+v at %v", api.submits, api.submitAt)
		}
		for _, r := range api.submits[0].Results {
			if !strings.HasPrefix(r.Error, "not probed:") || r.Ticket != "t" {
				t.Errorf("result %+v", r)
			}
		}
	})
}

func TestRefusedWorkWaitsBeforeAskingAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &scriptAPI{cfg: baseConfig(), workErr: &client.StatusError{Op: "work", Status: http.StatusForbidden}}
		runFor(t, api, 150*time.Second, func(o *Options) { o.RefusedWait = time.Minute })
		want := []time.Duration{0, time.Minute, 2 * time.Minute}
		if len(api.workAt) != 3 || api.workAt[1] != want[1] || api.workAt[2] != want[2] {
			t.Fatalf("work asked at %v, want %v", api.workAt, want)
		}
	})
}

func TestConfigRefreshedOnSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &scriptAPI{cfg: baseConfig()}
		runFor(t, api, 60*time.Second, func(o *Options) { o.ConfigRefresh = 20 * time.Second })
		// Checked before each ask for work (0, 7, 14, 21, ...): refreshed at
		// the first ask 20 s or more after the last fetch.
		want := []time.Duration{0, 21 * time.Second, 42 * time.Second}
		if len(api.configAt) != 3 || api.configAt[1] != want[1] || api.configAt[2] != want[2] {
			t.Fatalf("config fetched at %v, want %v", api.configAt, want)
		}
	})
}

func TestRefusedConfigIsWaitedOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		paused := &client.StatusError{Op: "config", Status: http.StatusForbidden}
		api := &scriptAPI{cfg: baseConfig(), configErrs: []error{paused, paused}}
		runFor(t, api, 150*time.Second, func(o *Options) { o.RefusedWait = time.Minute })
		if len(api.configAt) != 3 || api.configAt[2] != 2*time.Minute || len(api.workAt) == 0 || api.workAt[0] != 2*time.Minute {
			t.Fatalf("config fetched at %v, work asked at %v", api.configAt, api.workAt)
		}
	})
}
