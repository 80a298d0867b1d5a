package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ntppool-ng/ntppool/monitorapi"
)

// FuzzResults posts arbitrary bodies as monitor "a": nothing may panic,
// answer 5xx, or store anything unless the body was a valid batch.
func FuzzResults(f *testing.F) {
	f.Add([]byte(`{"batch_id":"x","results":[]}`))
	f.Add([]byte(`{"batch_id":"1","results":[{"ip":"127.0.0.2","ticket":"t","ts":"2026-01-01T00:00:00Z","offset":1e308,"rtt":-1,"stratum":300}]}`))
	f.Add([]byte(`{"batch_id":"` + string(bytes.Repeat([]byte("9"), 70)) + `"}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte(`{"results":null,"batch_id":"\u0000"}`))
	fx := newFixtureTB(f, 2, nil)
	h := fx.api.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		before, _ := fx.st.CountLogScores(context.Background())
		req := httptest.NewRequest("POST", monitorapi.PathResults, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok-a")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		after, _ := fx.st.CountLogScores(context.Background())
		if rec.Code != http.StatusOK && after != before {
			t.Fatalf("refused body %q stored %d rows", body, after-before)
		}
	})
}
