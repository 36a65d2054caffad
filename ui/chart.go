package ui

import (
	"fmt"

	"github.com/hookd/hookd/operations"
)

// chart is an endpoint's attempts per hour as SVG bars: succeeded stacked
// on failed, drawn server-side (no script, no inline style).
type chart struct {
	Width, Height int
	Bars          []bar
	Max           int64
	// Ticks label some hours along the bottom.
	Ticks []tick
}

type bar struct {
	X, W           float64
	OkY, OkH       float64
	FailedY, FailH float64
	Label          string
}

type tick struct {
	X     float64
	Label string
}

// chartHeight is the bars' area; the labels go below it.
const chartHeight = 140

func newChart(st operations.EndpointStats) chart {
	c := chart{Width: 960, Height: chartHeight + 20, Max: 1}
	for _, h := range st.Hours {
		c.Max = max(c.Max, h.Succeeded+h.Failed)
	}
	n := len(st.Hours)
	if n == 0 {
		return c
	}
	slot := float64(c.Width) / float64(n)
	every := max(1, n/8)
	for i, h := range st.Hours {
		failH := float64(h.Failed) / float64(c.Max) * chartHeight
		okH := float64(h.Succeeded) / float64(c.Max) * chartHeight
		c.Bars = append(c.Bars, bar{X: float64(i) * slot, W: max(slot-1, 1),
			FailedY: chartHeight - failH, FailH: failH, OkY: chartHeight - failH - okH, OkH: okH,
			Label: fmt.Sprintf("%s: %d succeeded, %d failed", h.Start.Format("Jan 2 15:04 UTC"), h.Succeeded, h.Failed)})
		if i%every == 0 {
			c.Ticks = append(c.Ticks, tick{X: float64(i) * slot, Label: h.Start.Format("Jan 2 15h")})
		}
	}
	return c
}
