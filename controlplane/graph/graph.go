// Package graph draws small time-series line charts as inline SVG on the
// server, so the web pages need no JavaScript to show score and zone history.
//
// # Usage
//
//	c := graph.Chart{Title: "Score", Width: 720, Height: 240, YUnit: "",
//	    Series: []graph.Series{{Name: "overall", Points: pts}}}
//	html := c.SVG() // a template.HTML holding one <svg> element
//
// The output is self-contained: colours are presentation attributes, not
// style sheets, so it renders the same under a strict Content-Security-Policy.
package graph

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Point is one value at one time.
type Point struct {
	T time.Time
	V float64
}

// Series is one line (or cloud of dots) on a chart.
type Series struct {
	Name   string
	Points []Point // in time order
	// Color is an SVG colour; empty picks one from the palette by position.
	Color string
	// Dots draws a dot per point instead of a line.
	Dots bool
	// Width is the stroke width; 0 means 1.5.
	Width float64
}

// Rule is a horizontal reference line, such as the DNS threshold.
type Rule struct {
	V     float64
	Label string
}

// Chart describes one chart. Zero values pick sensible defaults.
type Chart struct {
	Title  string // the accessible name and the visible heading
	Width  int    // viewBox width; 0 means 720
	Height int    // viewBox height; 0 means 260
	// YMin and YMax fix the value axis when YFixed is set; otherwise it spans
	// the data (and the rules), padded to round numbers.
	YMin, YMax float64
	YFixed     bool
	// Clamp draws dots outside a fixed axis at its edge instead of leaving
	// them out; lines always stay inside the chart.
	Clamp bool
	YUnit string
	// Start and End fix the time axis; zero values span the data.
	Start, End time.Time
	// Gap breaks a line between two points further apart than this; 0 never
	// breaks.
	Gap    time.Duration
	Series []Series
	Rules  []Rule
}

// Palette is the colour of each series by position, chosen to stay apart
// for the common kinds of colour blindness and to contrast with white.
var Palette = []string{"#1f5fbf", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#5c940d", "#e67700", "#495057", "#364fc7"}

const (
	marginLeft   = 52
	marginRight  = 12
	marginTop    = 28
	marginBottom = 26
	legendRow    = 18
)

// SVG renders the chart as one <svg> element. Text is escaped; the result is
// safe to put into an html/template.
func (c Chart) SVG() template.HTML {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = 720
	}
	if h <= 0 {
		h = 260
	}
	start, end := c.timeRange()
	ymin, ymax := c.valueRange()
	legendRows := (len(c.Series) + 3) / 4
	plotW := float64(w - marginLeft - marginRight)
	plotH := float64(h - marginTop - marginBottom - legendRows*legendRow)
	if plotH < 40 {
		plotH = 40
	}
	totalH := h
	x := func(t time.Time) float64 {
		span := end.Sub(start)
		if span <= 0 {
			return marginLeft + plotW/2
		}
		return marginLeft + plotW*float64(t.Sub(start))/float64(span)
	}
	// Values off the value axis are drawn at its edge (dots off it are
	// left out unless Clamp is set, see below).
	y := func(v float64) float64 {
		v = math.Max(ymin, math.Min(ymax, v))
		return marginTop + plotH*((ymax-v)/(ymax-ymin))
	}

	var b strings.Builder
	id := "g" + fmt.Sprintf("%x", hash(c.Title))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="%s" class="chart" font-family="system-ui, sans-serif" font-size="11">`, w, totalH, id)
	fmt.Fprintf(&b, `<title id="%s">%s</title>`, id, esc(c.Title))
	fmt.Fprintf(&b, `<text x="%d" y="16" font-size="13" font-weight="600" fill="#212529">%s</text>`, marginLeft, esc(c.Title))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%.1f" fill="#fff" stroke="#adb5bd"/>`, marginLeft, marginTop, plotW, plotH)

	// Value grid and labels.
	for _, v := range niceTicks(ymin, ymax, 8) {
		yy := y(v)
		fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e9ecef"/>`, marginLeft, marginLeft+plotW, yy, yy)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#495057">%s%s</text>`, marginLeft-4, yy+4, fmtNum(v), esc(c.YUnit))
	}
	// Time grid and labels.
	step, layout := timeStep(end.Sub(start))
	for t := start.Truncate(step).Add(step); !t.After(end); t = t.Add(step) {
		xx := x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%.1f" stroke="#e9ecef"/>`, xx, xx, marginTop, marginTop+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#495057">%s</text>`, xx, marginTop+plotH+14, t.UTC().Format(layout))
	}
	// Reference rules.
	for _, r := range c.Rules {
		if !finite(r.V) || r.V < ymin || r.V > ymax {
			continue
		}
		yy := y(r.V)
		fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#868e96" stroke-dasharray="4 3"/>`, marginLeft, marginLeft+plotW, yy, yy)
		if r.Label != "" {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#495057">%s</text>`, marginLeft+plotW-4, yy-3, esc(r.Label))
		}
	}
	// Series.
	for i, s := range c.Series {
		color := s.Color
		if color == "" {
			color = Palette[i%len(Palette)]
		}
		width := s.Width
		if width == 0 {
			width = 1.5
		}
		if s.Dots {
			fmt.Fprintf(&b, `<g fill="%s">`, color)
			for _, p := range s.Points {
				if !finite(p.V) || !c.Clamp && (p.V < ymin || p.V > ymax) {
					continue
				}
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f"/>`, x(p.T), y(p.V), width)
			}
			b.WriteString(`</g>`)
			continue
		}
		if len(s.Points) == 0 {
			continue
		}
		fmt.Fprintf(&b, `<path fill="none" stroke="%s" stroke-width="%.1f" stroke-linejoin="round" d="`, color, width)
		move := true
		for j, p := range s.Points {
			if !finite(p.V) {
				move = true // a hole in the data breaks the line
				continue
			}
			cmd := "L"
			if move || (c.Gap > 0 && p.T.Sub(s.Points[j-1].T) > c.Gap) {
				cmd = "M"
			}
			move = false
			fmt.Fprintf(&b, "%s%.1f %.1f", cmd, x(p.T), y(p.V))
		}
		b.WriteString(`"/>`)
	}
	// Legend, four entries a row, below the plot.
	for i, s := range c.Series {
		color := s.Color
		if color == "" {
			color = Palette[i%len(Palette)]
		}
		lx := float64(marginLeft) + float64(i%4)*plotW/4
		ly := marginTop + plotH + 20 + float64(i/4+1)*legendRow - 6
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="12" height="4" fill="%s"/>`, lx, ly-4, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#212529">%s</text>`, lx+16, ly, esc(s.Name))
	}
	if c.empty() {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#495057">no data yet</text>`, marginLeft+plotW/2, marginTop+plotH/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec G203 -- every text above went through esc
}

func (c Chart) empty() bool {
	for _, s := range c.Series {
		if len(s.Points) > 0 {
			return false
		}
	}
	return true
}

func (c Chart) timeRange() (time.Time, time.Time) {
	start, end := c.Start, c.End
	if start.IsZero() || end.IsZero() {
		var lo, hi time.Time
		for _, s := range c.Series {
			for _, p := range s.Points {
				if lo.IsZero() || p.T.Before(lo) {
					lo = p.T
				}
				if hi.IsZero() || p.T.After(hi) {
					hi = p.T
				}
			}
		}
		if start.IsZero() {
			start = lo
		}
		if end.IsZero() {
			end = hi
		}
	}
	if start.IsZero() && end.IsZero() {
		end = time.Now()
	}
	if !end.After(start) {
		start = end.Add(-time.Hour)
	}
	return start, end
}

func (c Chart) valueRange() (float64, float64) {
	if c.YFixed && c.YMax > c.YMin && finite(c.YMin) && finite(c.YMax) {
		return c.YMin, c.YMax
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			if finite(p.V) {
				lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
			}
		}
	}
	for _, r := range c.Rules {
		if finite(r.V) {
			lo, hi = math.Min(lo, r.V), math.Max(hi, r.V)
		}
	}
	if math.IsInf(lo, 0) {
		return 0, 1
	}
	// Values near the float limits are drawn at the edge of an eighth of
	// the range floats hold, which keeps every coordinate finite.
	lo, hi = math.Max(lo, -math.MaxFloat64/8), math.Min(hi, math.MaxFloat64/8)
	if hi-lo < 1e-9*math.Max(1, math.Abs(lo)) {
		lo, hi = lo-1, hi+1
	}
	step := niceStep(hi-lo, 6)
	if !finite(step) || step <= 0 {
		return lo, hi
	}
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step
}

// niceStep is a 1, 2 or 5 times a power of ten that cuts span into at most
// n parts.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

func niceTicks(lo, hi float64, n int) []float64 {
	step := niceStep(hi-lo, n)
	if !finite(step) || step <= 0 || (hi-lo)/step > float64(4*n) {
		return []float64{lo, hi} // a span floats cannot cut evenly
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step/1e6; v += step {
		out = append(out, v)
	}
	return out
}

// timeStep picks a tick interval giving at most about eight labels, and the
// layout to print them with.
func timeStep(span time.Duration) (time.Duration, string) {
	steps := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour,
		6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour,
		14 * 24 * time.Hour, 30 * 24 * time.Hour, 91 * 24 * time.Hour, 365 * 24 * time.Hour}
	for _, s := range steps {
		if span/s <= 8 {
			if s < 24*time.Hour {
				return s, "15:04"
			}
			return s, "Jan 2"
		}
	}
	return steps[len(steps)-1], "2006"
}

func fmtNum(v float64) string {
	if math.Abs(v) >= 1e9 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	s := fmt.Sprintf("%.3f", v)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func esc(s string) string { return template.HTMLEscapeString(s) }

// hash gives a short stable id so several charts on one page get distinct
// title ids.
func hash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}
