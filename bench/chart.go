package main

import (
	"fmt"
	"html"
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
