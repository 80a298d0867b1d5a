package selfcheck

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/ntp"

	"github.com/ntppool-ng/ntppool/internal/ntpserver"
)

func servers(t *testing.T, cfgs ...ntpserver.Config) []string {
	t.Helper()
	var addrs []string
	for _, c := range cfgs {
		s, err := ntpserver.Listen("127.0.0.61:0", c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		addrs = append(addrs, s.Addr().String())
	}
	return addrs
}

func TestMajorityRule(t *testing.T) {
	good := ntpserver.Config{}
	off := ntpserver.Config{Offset: 100 * time.Millisecond}
	leap := ntpserver.Config{Leap: 3}
	silent := ntpserver.Config{Silent: true}
	kod := ntpserver.Config{KissCode: "DENY"}
	for _, tc := range []struct {
		name    string
		cfgs    []ntpserver.Config
		trusted bool
		passed  int
	}{
		{"all good", []ntpserver.Config{good, good, good}, true, 3},
		{"one off of three", []ntpserver.Config{good, off, good}, true, 2},
		{"two off of three", []ntpserver.Config{off, off, good}, false, 1},
		{"half is not a majority", []ntpserver.Config{good, good, off, leap}, false, 2},
		{"leap alarm fails", []ntpserver.Config{leap}, false, 0},
		{"silence and kod fail", []ntpserver.Config{good, silent, kod}, false, 1},
		{"single good", []ntpserver.Config{good}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := New(Options{Servers: servers(t, tc.cfgs...), MaxOffset: 10 * time.Millisecond, TTL: time.Minute, Timeout: 300 * time.Millisecond})
			v := c.Check(context.Background())
			if v.Trusted != tc.trusted || v.Passed != tc.passed || v.Total != len(tc.cfgs) {
				t.Fatalf("verdict %+v", v)
			}
			if !v.Trusted && !strings.Contains(v.Reason, "strict majority") {
				t.Errorf("reason %q", v.Reason)
			}
		})
	}
}

func TestOffsetIsMedianOfAnswers(t *testing.T) {
	c := New(Options{Servers: servers(t, ntpserver.Config{Offset: -time.Second}, ntpserver.Config{Offset: 2 * time.Second},
		ntpserver.Config{Offset: 2 * time.Second}), MaxOffset: 10 * time.Millisecond, TTL: time.Minute, Timeout: 300 * time.Millisecond})
	v := c.Check(context.Background())
	if v.Trusted || !v.HaveOffset || (v.Offset-2*time.Second).Abs() > 20*time.Millisecond {
		t.Fatalf("verdict %+v", v)
	}
}

func TestVerdictCachedForTTL(t *testing.T) {
	addrs := servers(t, ntpserver.Config{})
	c := New(Options{Servers: addrs, MaxOffset: 10 * time.Millisecond, TTL: 3 * time.Minute, Timeout: 300 * time.Millisecond})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	queries := 0
	inner := c.query
	c.query = func(a string, d time.Duration) (r *ntp.Response, err error) { queries++; return inner(a, d) }
	c.Check(context.Background())
	now = now.Add(2 * time.Minute)
	c.Check(context.Background())
	if queries != 1 {
		t.Fatalf("%d queries within the TTL, want 1", queries)
	}
	now = now.Add(2 * time.Minute)
	c.Check(context.Background())
	if queries != 2 {
		t.Fatalf("%d queries after the TTL, want 2", queries)
	}
	c.SetOptions(Options{Servers: addrs, MaxOffset: 5 * time.Millisecond, TTL: 3 * time.Minute})
	c.Check(context.Background())
	if queries != 3 {
		t.Fatalf("new options kept the old verdict")
	}
}

func TestKernelStateWithoutBaseServers(t *testing.T) {
	c := New(Options{TTL: time.Minute})
	for _, tc := range []struct {
		synced bool
		err    error
		want   bool
	}{{true, nil, true}, {false, nil, false}, {true, errors.New("EPERM"), false}} {
		c.kernel = func() (bool, time.Duration, error) { return tc.synced, time.Millisecond, tc.err }
		c.SetOptions(Options{TTL: 0})
		if v := c.Check(context.Background()); v.Trusted != tc.want || v.Reason == "" {
			t.Errorf("kernel %v %v: verdict %+v", tc.synced, tc.err, v)
		}
	}
	// The real call must at least work here (whatever this machine's state).
	if _, _, err := kernelState(); err != nil {
		t.Fatal(err)
	}
}
