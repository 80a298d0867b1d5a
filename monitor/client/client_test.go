package client

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ntppool-ng/ntppool/monitorapi"
)

// script answers requests with the given statuses in turn (0 = network error).
type script struct {
	statuses []int
	body     string
	calls    atomic.Int32
	lastAuth atomic.Value
}

func (s *script) RoundTrip(r *http.Request) (*http.Response, error) {
	i := int(s.calls.Add(1)) - 1
	s.lastAuth.Store(r.Header.Get("Authorization"))
	st := s.statuses[min(i, len(s.statuses)-1)]
	if st == 0 {
		return nil, errors.New("connection refused")
	}
	body := s.body
	if st >= 300 {
		body = `{"error":"nope"}`
	}
	return &http.Response{StatusCode: st, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}, Request: r}, nil
}

func newClient(t *testing.T, s *script) *Client {
	t.Helper()
	c, err := New(Options{BaseURL: "http://cp.test/", Token: "tok", HTTP: &http.Client{Transport: s},
		Log: slog.New(slog.NewTextHandler(t.Output(), nil)), MinBackoff: time.Second, MaxBackoff: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetriesServerErrorsWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{statuses: []int{503, 0, 500, 200}, body: `{"batch_id":"b1","accepted":3}`}
		c := newClient(t, s)
		start := time.Now()
		ack, err := c.Submit(t.Context(), monitorapi.Results{BatchID: "b1"})
		if err != nil || ack.Accepted != 3 || s.calls.Load() != 4 {
			t.Fatalf("ack %+v err %v calls %d", ack, err, s.calls.Load())
		}
		// 1 s, 2 s, 4 s with ±20% jitter.
		if d := time.Since(start); d < 5600*time.Millisecond || d > 8400*time.Millisecond {
			t.Errorf("retries took %v, want about 7 s of back-off", d)
		}
		if s.lastAuth.Load() != "Bearer tok" {
			t.Errorf("authorization %q", s.lastAuth.Load())
		}
	})
}

func TestBackoffIsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{statuses: []int{502, 502, 502, 502, 502, 502, 502, 200}, body: `{}`}
		c := newClient(t, s)
		start := time.Now()
		if _, err := c.Config(t.Context()); err != nil {
			t.Fatal(err)
		}
		// 1+2+4+8+8+8+8 = 39 s (±20%): never more than the 8 s cap per wait.
		if d := time.Since(start); d > 47*time.Second || d < 31*time.Second {
			t.Errorf("took %v", d)
		}
	})
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	for _, st := range []int{400, 401, 403, 409, 413} {
		synctest.Test(t, func(t *testing.T) {
			s := &script{statuses: []int{st, 200}}
			_, err := newClient(t, s).Work(t.Context())
			se, ok := errors.AsType[*StatusError](err)
			if !ok || se.Status != st || se.Message != "nope" || se.Retryable() || s.calls.Load() != 1 {
				t.Fatalf("status %d: err %v calls %d", st, err, s.calls.Load())
			}
		})
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{statuses: []int{503}}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := newClient(t, s).Work(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestUndecodableSuccessIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{statuses: []int{200}, body: "<html>"}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if _, err := newClient(t, s).Config(ctx); err == nil || s.calls.Load() < 2 {
			t.Fatalf("err %v calls %d", err, s.calls.Load())
		}
	})
}

func TestNewRefusesBadOptions(t *testing.T) {
	for _, o := range []Options{{BaseURL: "ftp://x", Token: "t"}, {BaseURL: "http://x"}, {BaseURL: "::", Token: "t"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
