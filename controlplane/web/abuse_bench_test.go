package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// abuseSite is a site with one confirmed user and a session of theirs; it
// returns the handler, the user's email and the session cookie value.
func abuseSite(b *testing.B) (*Server, string, string) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "abuse.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	hash, _ := store.HashPassword("correct horse battery")
	acct, _ := st.CreateAccount(ctx, "victim")
	uid, err := st.CreateUser(ctx, store.User{AccountID: acct, Email: "victim@example.test", PasswordHash: hash})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	st.ConfirmUserEmail(ctx, uid, now)
	if err := st.CreateSession(ctx, store.HashToken("bench-session"), uid, now, now.Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	// A clock that stands still: limits do not refill while the
	// benchmark runs, however slow the machine.
	w, err := New(Config{}, Deps{Store: st, Registry: registry.New(st, registry.Config{}), Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	return w, "victim@example.test", "bench-session"
}

// post sends a form from peer, with the session cookie when set.
func benchPost(h http.Handler, peer, path string, form url.Values, session string) int {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = peer
	if session != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRefused measures the CPU a refused request costs (cpu-µs/op:
// process CPU time over the requests, all goroutines included).
func BenchmarkRefused(b *testing.B) {
	b.Run("reset-unknown-token", func(b *testing.B) {
		w, _, _ := abuseSite(b)
		h := w.Handler()
		form := url.Values{"password": {"a long new password"}}
		measureRefused(b, h, "/reset/NOSUCHTOKEN", form, "", http.StatusNotFound)
	})
	b.Run("login-limited", func(b *testing.B) {
		w, email, _ := abuseSite(b)
		h := w.Handler()
		form := url.Values{"email": {email}, "password": {"wrong password"}}
		for i := 0; benchPost(h, "192.0.2.1:1234", "/login", form, "") != http.StatusTooManyRequests; i++ {
			if i > 100 {
				b.Fatal("log-in never limited")
			}
		}
		measureRefused(b, h, "/login", form, "", http.StatusTooManyRequests)
	})
	b.Run("account-delete-wrong-password", func(b *testing.B) {
		w, _, session := abuseSite(b)
		h := w.Handler()
		form := url.Values{"password": {"wrong password"}}
		// Use up the limits first (where there are any).
		for range 20 {
			if benchPost(h, "192.0.2.1:1234", "/manage/account/delete", form, session) == http.StatusTooManyRequests {
				break
			}
		}
		measureRefused(b, h, "/manage/account/delete", form, session, http.StatusTooManyRequests, http.StatusUnprocessableEntity)
	})
}

// measureRefused posts form to path from one client in the benchmark loop,
// fails on any status but want, and reports the process CPU per request.
func measureRefused(b *testing.B, h http.Handler, path string, form url.Values, session string, want ...int) {
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if c := benchPost(h, "192.0.2.1:1234", path, form, session); !slices.Contains(want, c) {
			b.Fatalf("status %d, want one of %v", c, want)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e3, "cpu-µs/op")
}

// BenchmarkRefusedFlood sends 100,000 refused log-ins from 10,000
// addresses, each with its own 1 KiB junk email, and reports the heap
// growth they leave (heap-MB) and the whole heap after it. Each address
// first uses up its client limit with 10 cheap reset requests for an
// unknown address of its own (no bcrypt, no mail).
func BenchmarkRefusedFlood(b *testing.B) {
	const addrs, perAddr = 10_000, 10
	for b.Loop() {
		w, _, _ := abuseSite(b)
		h := w.Handler()
		for i := range addrs {
			peer := fmt.Sprintf("10.%d.%d.1:1000", i/256, i%256)
			for j := 0; benchPost(h, peer, "/reset", url.Values{"email": {fmt.Sprintf("nobody%d@example.test", i)}}, "") != http.StatusTooManyRequests; j++ {
				if j > 20 {
					b.Fatal("reset requests never limited")
				}
			}
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		junk := strings.Repeat("x", 1<<10)
		for i := range addrs {
			peer := fmt.Sprintf("10.%d.%d.1:1000", i/256, i%256)
			for j := range perAddr {
				form := url.Values{"email": {fmt.Sprintf("%d.%d.%s@example.test", i, j, junk)}, "password": {"wrong password"}}
				if c := benchPost(h, peer, "/login", form, ""); c != http.StatusTooManyRequests {
					b.Fatalf("log-in from %s: status %d", peer, c)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1e6, "heap-MB")
		b.ReportMetric(float64(after.HeapAlloc)/1e6, "heap-total-MB")
		b.ReportMetric(float64(w.limits.len()), "buckets")
		runtime.KeepAlive(w)
	}
}
