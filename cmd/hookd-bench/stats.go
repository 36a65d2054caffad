package main

import (
	"fmt"
	"slices"
	"time"
)

// sample is a set of latencies.
type sample []time.Duration

// pct is the nearest-rank percentile p (0–100) of s; 0 when s is empty.
func (s sample) pct(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	i := int(float64(len(c))*p/100+0.999999) - 1
	return c[min(max(i, 0), len(c)-1)]
}

func (s sample) max() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Max(s)
}

// ms formats a duration in milliseconds with sensible precision.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case d == 0:
		return "–"
	case f < 10:
		return fmt.Sprintf("%.2f ms", f)
	case f < 1000:
		return fmt.Sprintf("%.1f ms", f)
	default:
		return fmt.Sprintf("%.2f s", f/1000)
	}
}

func ratio(a, b float64) string {
	if b == 0 || a == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// table prints a Markdown table.
type table struct {
	head []string
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) print() {
	if len(t.rows) == 0 {
		return
	}
	w := make([]int, len(t.head))
	for i, h := range t.head {
		w[i] = len([]rune(h))
	}
	for _, r := range t.rows {
		for i, c := range r {
			if i < len(w) {
				w[i] = max(w[i], len([]rune(c)))
			}
		}
	}
	line := func(cells []string) {
		fmt.Print("|")
		for i := range t.head {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			fmt.Printf(" %s%*s |", c, w[i]-len([]rune(c)), "")
		}
		fmt.Println()
	}
	line(t.head)
	fmt.Print("|")
	for i := range t.head {
		fmt.Print(" ")
		for range w[i] {
			fmt.Print("-")
		}
		fmt.Print(" |")
	}
	fmt.Println()
	for _, r := range t.rows {
		line(r)
	}
	fmt.Println()
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	c := slices.Clone(ds)
	slices.Sort(c)
	return c[len(c)/2]
}
