package graph

import (
	"encoding/xml"
	"math"
	"strings"
	"testing"
	"time"
)

// wellFormed fails the test unless s parses as XML.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				return
			}
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
	}
}

func TestChartDrawsEverySeriesAndEscapesText(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var pts []Point
	for i := range 50 {
		pts = append(pts, Point{T: t0.Add(time.Duration(i) * 10 * time.Minute), V: float64(i%20) - 5})
	}
	c := Chart{
		Title: `Score <b>&"x"`, YFixed: true, YMin: -100, YMax: 20, Clamp: true, Gap: time.Hour,
		Series: []Series{{Name: "overall", Points: pts}, {Name: "mon<1>", Points: pts, Dots: true}},
		Rules:  []Rule{{V: 10, Label: "DNS threshold"}},
	}
	out := string(c.SVG())
	wellFormed(t, out)
	for _, want := range []string{`role="img"`, "<title", "Score &lt;b&gt;&amp;&#34;x&#34;", "mon&lt;1&gt;", "<path", "<circle", "DNS threshold"} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Contains(out, "<b>") {
		t.Error("title not escaped")
	}
}

func TestChartBreaksLinesAtGaps(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pts := []Point{{t0, 1}, {t0.Add(time.Minute), 2}, {t0.Add(3 * time.Hour), 3}, {t0.Add(3*time.Hour + time.Minute), 4}}
	out := string(Chart{Title: "t", Gap: time.Hour, Series: []Series{{Name: "a", Points: pts}}}.SVG())
	path := out[strings.Index(out, ` d="`):]
	path = path[:strings.Index(path, `"/>`)]
	if got := strings.Count(path, "M"); got != 2 {
		t.Errorf("path has %d moves, want 2: %s", got, path)
	}
}

func TestEmptyChartSaysSo(t *testing.T) {
	out := string(Chart{Title: "empty"}.SVG())
	wellFormed(t, out)
	if !strings.Contains(out, "no data yet") {
		t.Error("empty chart has no notice")
	}
}

func TestNiceTicks(t *testing.T) {
	got := niceTicks(-100, 20, 6)
	want := []float64{-100, -80, -60, -40, -20, 0, 20}
	if len(got) != len(want) {
		t.Fatalf("ticks %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ticks %v, want %v", got, want)
		}
	}
}

// FuzzChart: any values and times give well-formed SVG without NaN or Inf
// in it (a hole in the data breaks the line instead).
func FuzzChart(f *testing.F) {
	f.Add(int64(0), int64(60), 1.0, 2.0, 3.0, -100.0, 20.0, true)
	f.Add(int64(-1e12), int64(1e12), math.NaN(), math.Inf(1), -0.0, 0.0, 0.0, false)
	f.Add(int64(5), int64(5), 1e308, -1e308, 5e-324, 1.0, 1.0, true)
	f.Fuzz(func(t *testing.T, t0, t1 int64, a, b, c, ymin, ymax float64, fixed bool) {
		base := time.Unix(0, 0)
		pts := []Point{{base.Add(time.Duration(t0)), a}, {base.Add(time.Duration(t0 + 1)), b}, {base.Add(time.Duration(t1)), c}}
		ch := Chart{Title: "f", YMin: ymin, YMax: ymax, YFixed: fixed, Clamp: fixed, Gap: time.Minute,
			Series: []Series{{Name: "l", Points: pts}, {Name: "d", Points: pts, Dots: true}}, Rules: []Rule{{V: a}}}
		out := string(ch.SVG())
		wellFormed(t, out)
		if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
			t.Fatalf("non-finite number in SVG: %s", out)
		}
	})
}
