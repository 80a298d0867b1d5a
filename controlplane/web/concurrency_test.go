package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestConcurrentPages renders the pages that share state (the parsed
// templates, the cached counts, the news cache, the rate limiter) from many
// goroutines while the counts are invalidated and rebuilt; run under -race.
func TestConcurrentPages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "2026-01-01-a.md"), []byte("# A\n\ntext\n"), 0o644)
	s := newSite(t, func(c *Config) { c.NewsDir, c.CountsTTL = dir, time.Millisecond })
	seedServer(t, s.st, 0, "192.0.2.10", 5)
	h := s.web.Handler()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				p := []string{"/", "/zone/de", "/news", "/scores/192.0.2.10", "/zone/@.json"}[(g+i)%5]
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
				if rec.Code != http.StatusOK {
					t.Errorf("%s: %d", p, rec.Code)
					return
				}
				if i%5 == 0 {
					s.web.invalidate()
					s.web.limits.allow(time.Now(), limit{tableClients, rule{1, 1}, keyOf("client", "x")})
				}
			}
		})
	}
	wg.Wait()
}
