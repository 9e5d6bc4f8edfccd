package main

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// Chart geometry, in SVG user units.
const (
	chartWidth  = 1040
	labelWidth  = 200
	panelWidth  = 380
	panelGap    = 40
	barHeight   = 9
	rowHeight   = 2*barHeight + 8
	groupHeader = 46
	plinthColor = "#4f46e5"
	baseColor   = "#9ca3af"
)

// renderChart draws, for each database and size, horizontal bars of req/s
// (left) and p99 latency (right) per scenario, Plinth beside the baseline.
// Bars are scaled within each scenario (the larger of the pair is full
// length), because scenarios differ by orders of magnitude and the point is
// the comparison; the printed values carry the absolute figures. It is
// hand-written SVG so the harness needs no plotting dependency.
func renderChart(rep *Report) string {
	type group struct {
		title string
		rows  []Row
	}
	var groups []group
	for _, r := range rep.Rows {
		t := fmt.Sprintf("%s, %d rows", r.DB, r.Rows)
		if len(groups) == 0 || groups[len(groups)-1].title != t {
			groups = append(groups, group{title: t})
		}
		g := &groups[len(groups)-1]
		g.rows = append(g.rows, r)
	}
	height := 50
	for _, g := range groups {
		height += groupHeader + len(g.rows)*rowHeight + 20
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="15" font-weight="bold">Plinth vs baseline — %s</text>`+"\n",
		html.EscapeString(rep.Started.UTC().Format("2006-01-02 15:04 UTC")))
	legend(&b, chartWidth-330, 10)

	y := 50
	for _, g := range groups {
		fmt.Fprintf(&b, `<text x="10" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", y+16, html.EscapeString(g.title))
		left := labelWidth
		right := labelWidth + panelWidth + panelGap
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#374151">req/s (higher is better; bars scaled per scenario)</text>`+"\n", left, y+36)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#374151">p99 latency (lower is better; bars scaled per scenario)</text>`+"\n", right, y+36)
		y += groupHeader

		for i, r := range g.rows {
			ry := y + i*rowHeight
			var maxRPS float64
			var maxP99 time.Duration
			for _, m := range []*Measure{r.Plinth, r.Baseline} {
				if m.ran() {
					maxRPS = max(maxRPS, m.Load.RPS)
					maxP99 = max(maxP99, m.Load.P99)
				}
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s <tspan fill="%s" font-weight="bold">%s</tspan></text>`+"\n",
				labelWidth-8, ry+barHeight+4, html.EscapeString(r.Scenario), verdictColor(r.Verdict), html.EscapeString(r.Verdict))
			for j, m := range []*Measure{r.Plinth, r.Baseline} {
				color := []string{plinthColor, baseColor}[j]
				by := ry + j*barHeight
				if !m.ran() {
					fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#9ca3af" font-size="9">n/a</text>`+"\n", left+2, by+barHeight-1)
					fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#9ca3af" font-size="9">n/a</text>`+"\n", right+2, by+barHeight-1)
					continue
				}
				bar(&b, left, by, m.Load.RPS/maxRPS, color, fmt.Sprintf("%.0f", m.Load.RPS))
				bar(&b, right, by, float64(m.Load.P99)/float64(maxP99), color, fmtDur(m.Load.P99))
			}
		}
		y += len(g.rows)*rowHeight + 20
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func verdictColor(v string) string {
	switch v {
	case "PASS":
		return "#15803d"
	case "MISS":
		return "#b91c1c"
	}
	return "#6b7280"
}

// bar draws one horizontal bar of relative length frac with a value label.
func bar(b *strings.Builder, x, y int, frac float64, color, label string) {
	maxLen := float64(panelWidth - 60)
	w := max(1, frac*maxLen)
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", x, y, w, barHeight-1, color)
	fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="9" fill="#111827">%s</text>`+"\n", float64(x)+w+3, y+barHeight-1, html.EscapeString(label))
}

func legend(b *strings.Builder, x, y int) {
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="10" fill="%s"/><text x="%d" y="%d">Plinth</text>`+"\n", x, y, plinthColor, x+16, y+9)
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="10" fill="%s"/><text x="%d" y="%d">baseline (net/http + database/sql)</text>`+"\n", x+70, y, baseColor, x+86, y+9)
}

// Scale chart geometry, in SVG user units.
const (
	scalePanelW   = 440
	scalePanelH   = 260
	scaleMarginL  = 60
	scalePanelGap = 70
	scaleTop      = 78
	scaleGroupGap = 70
	limitColor    = "#dc2626"
)

// scaleColors are the line colours of the scenarios, in curve order.
func scaleColors() []string {
	return []string{"#4f46e5", "#059669", "#d97706", "#db2777", "#0891b2", "#7c3aed", "#65a30d", "#475569"}
}

// renderScaleChart draws, per database, two panels — mean latency and
// server CPU per request — with rows on a log x axis and the cost relative
// to the smallest size on a log y axis: one line per scenario, Plinth
// solid, the baseline dotted in the same colour, and the flatness limit
// dashed.
func renderScaleChart(sr *ScaleReport) string {
	var dbs []string
	byDB := map[string][]ScaleCurve{}
	for _, c := range sr.Curves {
		if _, ok := byDB[c.DB]; !ok {
			dbs = append(dbs, c.DB)
		}
		byDB[c.DB] = append(byDB[c.DB], c)
	}
	width := scaleMarginL + 2*scalePanelW + scalePanelGap + 260
	height := scaleTop + max(1, len(dbs))*(scalePanelH+scaleGroupGap) + 10

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="15" font-weight="bold">Plinth scale curve: cost per request relative to %s rows — %s</text>`+"\n",
		fmtRows(sr.Rows[0]), html.EscapeString(sr.Started.UTC().Format("2006-01-02 15:04 UTC")))
	fmt.Fprintf(&b, `<text x="10" y="40" fill="#374151">Solid: Plinth; dotted: baseline (net/http + database/sql). Dashed red: the %.1f× flatness limit. Medians of %d round(s) of %s per size.</text>`+"\n",
		sr.Limit, sr.Rounds, html.EscapeString(sr.Duration))

	y := scaleTop
	for _, db := range dbs {
		curves := byDB[db]
		for j, cpu := range []bool{false, true} {
			title := "mean latency ÷ at " + fmtRows(sr.Rows[0])
			if cpu {
				title = "server CPU per request ÷ at " + fmtRows(sr.Rows[0])
			}
			x := scaleMarginL + j*(scalePanelW+scalePanelGap)
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" font-weight="bold">%s: %s</text>`+"\n", x, y-14, html.EscapeString(db), html.EscapeString(title))
			scalePanel(&b, x, y, sr, curves, cpu)
		}
		// Legend: one entry per scenario, right of the panels.
		lx := scaleMarginL + 2*scalePanelW + scalePanelGap + 20
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="9" fill="#6b7280">growth %s→%s, mean / CPU per request</text>`+"\n",
			lx, y-2, fmtRows(sr.Rows[0]), fmtRows(sr.Rows[len(sr.Rows)-1]))
		for i, c := range curves {
			color := scaleColors()[i%len(scaleColors())]
			ly := y + 16 + i*34
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"/>`+"\n", lx, ly, lx+22, ly, color)
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s <tspan fill="%s" font-weight="bold">%s</tspan></text>`+"\n",
				lx+28, ly+4, html.EscapeString(c.Scenario), scaleVerdictColor(c.Verdict), html.EscapeString(c.Verdict))
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="9" fill="#6b7280">Plinth %s / %s, base %s / %s</text>`+"\n",
				lx+28, ly+17, fmtGrowth(c.PlinthGrowth.Mean), fmtGrowth(c.PlinthGrowth.CPU), fmtGrowth(c.BaselineGrowth.Mean), fmtGrowth(c.BaselineGrowth.CPU))
		}
		y += scalePanelH + scaleGroupGap
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func scaleVerdictColor(v string) string {
	switch v {
	case "flat":
		return "#15803d"
	case "NOT FLAT":
		return "#b91c1c"
	}
	return "#6b7280"
}

// scalePanel draws one panel at (x, y): axes, the 1× and limit lines, and
// a line per curve for Plinth and the baseline.
func scalePanel(b *strings.Builder, x, y int, sr *ScaleReport, curves []ScaleCurve, cpu bool) {
	// The y axis is logarithmic (base 2), so that 1.0–1.3× stays readable
	// next to a curve that grows several times.
	yMin, yMax := 0.5, 2.0
	for _, c := range curves {
		for _, ps := range [][]ScalePoint{c.Plinth, c.Baseline} {
			for _, v := range relative(ps, cpu) {
				if !math.IsNaN(v) {
					yMin, yMax = min(yMin, v/1.1), max(yMax, v*1.1)
				}
			}
		}
	}
	yMin, yMax = math.Exp2(math.Floor(math.Log2(yMin))), math.Exp2(math.Ceil(math.Log2(yMax)))
	lo, hi := math.Log10(float64(sr.Rows[0])), math.Log10(float64(sr.Rows[len(sr.Rows)-1]))
	px := func(rows int) float64 {
		if hi == lo {
			return float64(x) + scalePanelW/2
		}
		return float64(x) + (math.Log10(float64(rows))-lo)/(hi-lo)*scalePanelW
	}
	py := func(v float64) float64 {
		return float64(y) + (1-math.Log2(v/yMin)/math.Log2(yMax/yMin))*scalePanelH
	}

	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#d1d5db"/>`+"\n", x, y, scalePanelW, scalePanelH)
	for v := yMin; v <= yMax*1.0001; v *= 2 {
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#f3f4f6"/>`+"\n", x, py(v), x+scalePanelW, py(v))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="#374151">%g×</text>`+"\n", x-6, py(v)+4, v)
	}
	for _, n := range sr.Rows {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e7eb"/>`+"\n", px(n), y, px(n), y+scalePanelH)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#374151">%s</text>`+"\n", px(n), y+scalePanelH+16, fmtRows(n))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" fill="#6b7280">rows (log scale; y is log scale too)</text>`+"\n", x+scalePanelW/2, y+scalePanelH+32)
	fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#9ca3af"/>`+"\n", x, py(1), x+scalePanelW, py(1))
	fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="7 5"/>`+"\n",
		x, py(sr.Limit), x+scalePanelW, py(sr.Limit), limitColor)
	fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s" font-size="10">%.1f× limit</text>`+"\n", x+scalePanelW-4, py(sr.Limit)-4, limitColor, sr.Limit)

	for i, c := range curves {
		color := scaleColors()[i%len(scaleColors())]
		for j, ps := range [][]ScalePoint{c.Baseline, c.Plinth} {
			var pts []string
			for k, v := range relative(ps, cpu) {
				if math.IsNaN(v) {
					continue
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(ps[k].Rows), py(v)))
				if j == 1 {
					fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(ps[k].Rows), py(v), color)
				}
			}
			if len(pts) < 2 {
				continue
			}
			style := `stroke-width="1.3" stroke-dasharray="2 3" opacity="0.8"`
			if j == 1 {
				style = `stroke-width="2.5"`
			}
			fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" %s/>`+"\n", strings.Join(pts, " "), color, style)
		}
	}
}
