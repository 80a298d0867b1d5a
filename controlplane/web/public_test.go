package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/census"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// seedServer adds a server with a monitor and n probes a minute apart,
// ending now, plus overall score rows.
func seedServer(t *testing.T, st *store.Store, acct int64, ip string, n int) (store.Server, int64) {
	t.Helper()
	ctx := context.Background()
	id, err := st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr(ip), AccountID: acct, Netspeed: 1500, Country: "de", InPool: true, Score: 19.5})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetServerScore(ctx, id, 19.5, time.Now()); err != nil {
		t.Fatal(err)
	}
	mid, err := st.CreateMonitor(ctx, store.Monitor{Name: "mon-" + ip, Location: "Frankfurt", TokenHash: store.HashToken(ip), State: store.MonitorActive})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddMonitorServer(ctx, mid, id, "active", time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	for i := range n {
		ts := now.Add(-time.Duration(n-1-i) * time.Minute)
		off, rtt := 0.00125*float64(i%3-1), 0.0205
		row := store.LogScore{ServerID: id, MonitorID: mid, Time: ts, Step: 1, Score: float64(i), Offset: &off, RTT: &rtt}
		if i == 2 {
			row = store.LogScore{ServerID: id, MonitorID: mid, Time: ts, Step: -5, Score: float64(i), Error: "i/o timeout, \"quoted\""}
		}
		if err := st.AddLogScore(ctx, row); err != nil {
			t.Fatal(err)
		}
		if err := st.AddLogScore(ctx, store.LogScore{ServerID: id, Time: ts, Step: 1, Score: float64(i) + 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := st.Server(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return srv, mid
}

func TestPublicPagesSetNoCookies(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *Config) { c.SecureCookies = true })
	seedServer(t, s.st, 0, "192.0.2.10", 5)
	c := s.client()
	// A logged-in browser sends its cookie to public pages too: they must
	// neither read it into the page nor set one.
	logged, _ := s.signUp("cookie@example.test")
	for _, p := range []string{"/", "/use", "/join", "/vendors", "/news", "/terms", "/privacy", "/zone/@", "/zone/europe",
		"/zone/de", "/zone/de.json", "/scores/192.0.2.10", "/scores/192.0.2.10/json", "/scores/192.0.2.10/log",
		"/login", "/signup", "/reset", "/static/site.css", "/no/such/page"} {
		for _, cl := range []*client{c, logged} {
			r := cl.get(p)
			if r.StatusCode >= 500 {
				t.Errorf("GET %s: %d", p, r.StatusCode)
			}
			if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
				t.Errorf("GET %s set a cookie: %v", p, sc)
			}
			if r.Header.Get("Content-Security-Policy") == "" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: security headers missing", p)
			}
		}
	}
}

func TestHomeShowsCountsNewsAndCredit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "2026-01-05-ipv6.md"), []byte("# IPv6 everywhere\n\nAll labels <script>x</script> get **AAAA** now.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "2025-12-01-hello.md"), []byte("# Hello\n\nFirst post.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not news"), 0o644)
	s := newSite(t, func(c *Config) { c.NewsDir = dir })
	seedServer(t, s.st, 0, "192.0.2.10", 1)
	seedServer(t, s.st, 0, "2001:db8::10", 1)
	c := s.client()
	r := c.get("/")
	r.want(t, http.StatusOK, "GeoIP data by", "MaxMind", "IPv6 everywhere", "pool.ntp.test", `href="/zone/europe"`)
	// Europe: one IPv4 and one IPv6 server active.
	if !strings.Contains(r.body, `<a href="/zone/europe">Europe</a></th><td class="num">1</td><td class="num">1</td>`) {
		t.Errorf("home lacks Europe's counts:\n%s", r.body)
	}
	n := c.get("/news/2026-01-05-ipv6")
	n.want(t, http.StatusOK, "<strong>AAAA</strong>")
	if strings.Contains(n.body, "<script>") {
		t.Error("raw HTML from a news file reached the page")
	}
	c.get("/news").want(t, http.StatusOK, "Hello", "IPv6 everywhere")
	c.get("/news/..%2f..%2fetc%2fpasswd").want(t, http.StatusNotFound)
}

func TestTermsAndPrivacyAreReplaceable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	terms := filepath.Join(dir, "terms.md")
	os.WriteFile(terms, []byte("# Our own terms\n\nBe nice.\n"), 0o644)
	s := newSite(t, func(c *Config) { c.TermsFile = terms })
	c := s.client()
	c.get("/terms").want(t, http.StatusOK, "Our own terms", "Be nice.")
	c.get("/privacy").want(t, http.StatusOK, "no cookies")
}

func TestUsePageHasSnippetsWithThePoolsNames(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *Config) { c.PoolZone = "pool.example.org" })
	s.client().get("/use").want(t, http.StatusOK,
		"pool 2.pool.example.org iburst", "server 0.pool.example.org iburst", "NTP=0.pool.example.org 1.pool.example.org",
		`/manualpeerlist:"0.pool.example.org 1.pool.example.org`)
}

func TestZonePagesAndJSON(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	seedServer(t, s.st, 0, "192.0.2.10", 1)
	ctx := context.Background()
	// A month of daily counts, plus today's from the job.
	var rows []store.ZoneCount
	for d := range 30 {
		day := time.Date(2026, 1, 1+d, 4, 0, 0, 0, time.UTC)
		rows = append(rows, store.ZoneCount{Zone: "de", IPVersion: 4, Day: day.Format("2006-01-02"), TS: day, Registered: 10 + d, Active: 5 + d, Netspeed: 1000})
		rows = append(rows, store.ZoneCount{Zone: "de", IPVersion: 6, Day: day.Format("2006-01-02"), TS: day, Registered: 3, Active: 2, Netspeed: 500})
	}
	if err := s.st.SaveZoneCounts(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := census.Save(ctx, s.st, score.DefaultConfig(), time.Now()); err != nil {
		t.Fatal(err)
	}
	c := s.client()
	c.get("/zone/de").want(t, http.StatusOK, "<svg", "0.de.pool.ntp.test", "2.de.pool.ntp.test")
	c.get("/zone/europe").want(t, http.StatusOK, `href="/zone/de"`)
	c.get("/zone/nowhere").want(t, http.StatusNotFound)
	for from, to := range map[string]string{"/zone/DE": "/zone/de", "/zone/gb": "/zone/uk", "/zone/Europe.json": "/zone/europe.json"} {
		if r := c.get(from); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != to {
			t.Errorf("%s: %d to %q, want %s", from, r.StatusCode, r.Header.Get("Location"), to)
		}
	}
	c.get("/zone/nowhere.json").want(t, http.StatusNotFound)
	c.get("/zone/de.json?limit=x").want(t, http.StatusBadRequest)

	var out struct {
		History []zoneHistoryRow `json:"history"`
	}
	r := c.get("/zone/de.json")
	r.want(t, http.StatusOK)
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.History) != 62 {
		t.Fatalf("%d rows, want 62", len(out.History))
	}
	first := out.History[0]
	if first.D != "2026-01-01" || first.IV != "v4" || first.RC != 10 || first.AC != 5 || first.W != 1000 || first.TS != time.Date(2026, 1, 1, 4, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("first row %+v", first)
	}
	today := out.History[len(out.History)-2] // v4, then v6
	if v6 := out.History[len(out.History)-1]; v6.IV != "v6" || v6.AC != 0 || v6.D != today.D {
		t.Errorf("today's v6 row %+v", v6)
	}
	if today.D != time.Now().UTC().Format("2006-01-02") || today.IV != "v4" || today.AC != 1 || today.W != 1500 {
		t.Errorf("today's row %+v", today)
	}
	r = c.get("/zone/de.json?limit=10")
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	days := map[string]bool{}
	for _, h := range out.History {
		days[h.D] = true
	}
	if len(days) < 8 || len(days) > 11 || !days[today.D] {
		t.Errorf("limit=10 kept %d days (newest kept: %v)", len(days), days[today.D])
	}
	for i := 1; i < len(out.History); i++ {
		if out.History[i].D < out.History[i-1].D {
			t.Fatalf("not in date order at %d", i)
		}
	}
}

func TestScoresLogCSV(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	srv, mid := seedServer(t, s.st, 0, "192.0.2.10", 12)
	c := s.client()
	r := c.get("/scores/192.0.2.10/log?monitor=*&limit=5")
	r.want(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q", ct)
	}
	recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "ts_epoch,ts,offset,step,score,monitor_id,monitor_name,rtt,leap,error" {
		t.Fatalf("header %v", recs[0])
	}
	if len(recs) != 6 {
		t.Fatalf("%d rows, want 5 and a header", len(recs)-1)
	}
	// Newest first; the monitor row of the last probe: i=11, offset 0.00125*(11%3-1)=0.00125.
	var mon []string
	for _, rec := range recs[1:] {
		if rec[5] != "" {
			mon = rec
			break
		}
	}
	if mon[2] != "0.00125" || mon[3] != "1" || mon[4] != "11" || mon[6] != "mon-192.0.2.10" || mon[7] != "20.5" || mon[8] != "" {
		t.Errorf("monitor row %q", mon)
	}
	ts, _ := time.Parse("2006-01-02 15:04:05", mon[1])
	if mon[0] != strconvI(ts.Unix()) {
		t.Errorf("ts %q and ts_epoch %q disagree", mon[1], mon[0])
	}
	// The default is the overall rows only.
	recs, _ = csv.NewReader(strings.NewReader(c.get("/scores/192.0.2.10/log").body)).ReadAll()
	if len(recs) != 13 || recs[1][5] != "" || recs[1][6] != "recentmedian" || recs[1][4] != "11.5" {
		t.Errorf("overall log: %d rows, first %q", len(recs)-1, recs[1])
	}
	// since: rows after it, oldest first; by monitor name and by id.
	rows, _ := s.st.ScoreLog(context.Background(), store.LogQuery{ServerID: srv.ID, Monitor: mid, Limit: 100, After: time.Now().Add(-time.Hour)})
	since := rows[3].TS.Unix() // the 4th newest
	for _, m := range []string{"mon-192.0.2.10", strconvI(mid)} {
		recs, _ = csv.NewReader(strings.NewReader(c.get("/scores/192.0.2.10/log?monitor=" + m + "&since=" + strconvI(since)).body)).ReadAll()
		if len(recs) != 4 || recs[1][0] >= recs[3][0] {
			t.Errorf("monitor=%s since: %q", m, recs)
		}
	}
	// The error row keeps its text, quoted by CSV.
	if !strings.Contains(c.get("/scores/192.0.2.10/log?monitor=*&limit=100").body, `"i/o timeout, ""quoted"""`) {
		t.Error("error text missing from the log")
	}
	c.get("/scores/192.0.2.10/log?limit=0").want(t, http.StatusBadRequest)
	c.get("/scores/192.0.2.10/log?limit=abc").want(t, http.StatusBadRequest)
	c.get("/scores/192.0.2.10/log?since=yesterday").want(t, http.StatusBadRequest)
	c.get("/scores/192.0.2.10/log?monitor=nosuch").want(t, http.StatusBadRequest)
	c.get("/scores/not-an-ip/log").want(t, http.StatusBadRequest)
	c.get("/scores/192.0.2.99/log").want(t, http.StatusNotFound)
	// limit is capped at 10000.
	if lq, err := s.web.logQuery(httptestRequest("/x?limit=999999"), 1); err != nil || lq.Limit != 10000 {
		t.Errorf("limit cap: %d %v", lq.Limit, err)
	}
}

func TestScoresJSON(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	seedServer(t, s.st, 0, "2001:db8::10", 4)
	c := s.client()
	r := c.get("/scores/2001:db8::10/json?monitor=*")
	r.want(t, http.StatusOK)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	hist := out["history"].([]any)
	if len(hist) != 8 {
		t.Fatalf("%d history rows", len(hist))
	}
	var sawOverall, sawMonitor bool
	for _, h := range hist {
		row := h.(map[string]any)
		if _, ok := row["monitor_id"]; ok {
			sawMonitor = true
			if row["error"] == nil && row["rtt"] != 20.5 {
				t.Errorf("monitor row rtt %v", row["rtt"])
			}
		} else {
			sawOverall = true
			if _, ok := row["offset"]; ok {
				t.Errorf("overall row has an offset: %v", row)
			}
		}
	}
	if !sawOverall || !sawMonitor {
		t.Errorf("history lacks overall (%v) or monitor (%v) rows", sawOverall, sawMonitor)
	}
	mons := out["monitors"].([]any)
	if len(mons) != 2 {
		t.Fatalf("monitors %v", mons)
	}
	m0, m1 := mons[0].(map[string]any), mons[1].(map[string]any)
	if m0["type"] != "score" || m0["score"] != 19.5 || m0["status"] != "active" {
		t.Errorf("overall entry %v", m0)
	}
	if m1["type"] != "monitor" || m1["name"] != "mon-2001:db8::10" || m1["status"] != "active" || m1["avg_rtt"] != 20.5 {
		t.Errorf("monitor entry %v", m1)
	}
	if out["server"].(map[string]any)["ip"] != "2001:db8::10" {
		t.Errorf("server %v", out["server"])
	}
}

func TestScorePageRendersGraphs(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	seedServer(t, s.st, 0, "192.0.2.10", 15)
	c := s.client()
	r := c.get("/scores/192.0.2.10")
	r.want(t, http.StatusOK, `id="score-graph"`, "<svg", "overall score", "mon-192.0.2.10", "Offset (ms", "i/o timeout")
	c.get("/scores/bogus").want(t, http.StatusBadRequest)
	c.get("/scores/192.0.2.99").want(t, http.StatusNotFound)
	c.get("/scores/fe80::1%25eth0").want(t, http.StatusBadRequest)
	r = c.get("/scores?ip=+192.0.2.10+")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/scores/192.0.2.10" {
		t.Errorf("lookup: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	c.get("/scores?ip=nonsense").want(t, http.StatusBadRequest)
}

// History stored with huge values (before the monitor API bounded them)
// still gives a JSON answer: rounding must not turn them into +Inf.
func TestScoresJSONWithHugeStoredValues(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	srv, mid := seedServer(t, s.st, 0, "192.0.2.77", 1)
	off, rtt := 1e300, 1e300
	if err := s.st.AddLogScore(context.Background(), store.LogScore{ServerID: srv.ID, MonitorID: mid, Time: time.Now(),
		Step: 1, Score: 1e300, Offset: &off, RTT: &rtt}); err != nil {
		t.Fatal(err)
	}
	r := s.client().get("/scores/192.0.2.77/json?monitor=*")
	r.want(t, http.StatusOK)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	s.client().get("/scores/192.0.2.77").want(t, http.StatusOK)
	s.client().get("/scores/192.0.2.77/log?monitor=*").want(t, http.StatusOK)
}
