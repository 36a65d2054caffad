package main

import (
	"context"
	"fmt"
	"time"
)

// fanResult is scenario (b) for one system.
type fanResult struct {
	System string
	N      int
	Shots  []shot
}

func (r fanResult) lasts() []time.Duration {
	var out []time.Duration
	for _, s := range r.Shots {
		if s.Err == nil {
			out = append(out, s.Last)
		}
	}
	return out
}

// scenarioB: one event fanned out to -fanout endpoints; the time from the
// send to the last receipt, -fanout-runs times.
func (b *bench) scenarioB(ctx context.Context) {
	n := b.opt.fanout
	b.progress("scenario b: 1 event to %d endpoints, %d runs", n, b.opt.fanoutRuns)
	var results []fanResult
	for _, sys := range b.systems() {
		send, err := sys.Fanout(ctx, n)
		if err != nil {
			b.progress("%s: setup failed: %v", sys.Name(), err)
			b.failed = true
			continue
		}
		r := fanResult{System: sys.Name(), N: n}
		for i := range b.opt.fanoutRuns {
			if d := b.settle(ctx); d > time.Second {
				b.progress("engine settled in %s before the run", ms(d))
			}
			s := b.fire(ctx, fmt.Sprintf("b-%s-%s-%d", b.runID, sys.Name(), i), n, send)
			b.progress("%-8s fan-out %d: accepted after %s, first receipt %s, last %s, %d received, error %v",
				sys.Name(), n, ms(s.Accepted), ms(s.First), ms(s.Last), s.Received, s.Err)
			if s.Err != nil {
				b.failed = true
			}
			r.Shots = append(r.Shots, s)
		}
		results = append(results, r)
	}
	b.b = results

	fmt.Printf("## (b) 1 event fanned out to %d endpoints — time from send to last receipt\n\n", n)
	t := table{head: []string{"system", "runs ok", "accepted (hookd: 202) median", "first receipt median", "last receipt median", "min", "max", "deliveries/s"}}
	for _, r := range results {
		var acc, first []time.Duration
		for _, s := range r.Shots {
			if s.Err == nil {
				acc, first = append(acc, s.Accepted), append(first, s.First)
			}
		}
		lasts := r.lasts()
		rate := "–"
		if m := median(lasts); m > 0 {
			rate = fmt.Sprintf("%.1f", float64(n)/m.Seconds())
		}
		t.add(r.System, fmt.Sprintf("%d/%d", len(lasts), len(r.Shots)), ms(median(acc)), ms(median(first)),
			ms(median(lasts)), ms(sample(lasts).pct(0)), ms(sample(lasts).max()), rate)
	}
	t.print()
	last := func(sys string) time.Duration {
		for _, r := range results {
			if r.System == sys {
				return median(r.lasts())
			}
		}
		return 0
	}
	h, f, nw := last("hookd"), last("floor"), last("network")
	fmt.Printf("time to last receipt: hookd/floor %s, hookd/network %s, floor/network %s\n\n",
		ratio(float64(h), float64(f)), ratio(float64(h), float64(nw)), ratio(float64(f), float64(nw)))
}
