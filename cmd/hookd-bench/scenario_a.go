package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// scenarioA: one endpoint, many events. Each system runs twice: with one
// event in flight (latency) and with -concurrency publishers (throughput and
// latency under load).
func (b *bench) scenarioA(ctx context.Context) {
	b.progress("scenario a: 1 endpoint, many events (%s per window)", b.opt.duration)
	systems := b.systems()
	sends := b.prepareSingles(ctx, systems)
	results := b.runRoundsA(ctx, systems, sends)
	b.a = results

	b.printLoadTable(results)
	b.printLoadRatios(results)
	if b.opt.smoke {
		// Second-long runs measure nothing: comparing them with targets
		// would print verdicts that mean nothing (and read like failures).
		fmt.Print("smoke run: no comparison with the README's claims, the peer or the targets\n\n")
		return
	}
	b.printClaimsA(results)
}

// prepareSingles prepares scenario (a) on each system; a system whose set-up
// fails gets no send function, and fails the run.
func (b *bench) prepareSingles(ctx context.Context, systems []system) map[string]sendFunc {
	sends := map[string]sendFunc{}
	for _, sys := range systems {
		send, err := sys.Single(ctx)
		if err != nil {
			b.progress("%s: setup failed: %v", sys.Name(), err)
			b.failed = true
			continue
		}
		sends[sys.Name()] = send
	}
	return sends
}

// runRoundsA runs -rounds rounds of closed-loop windows (1 and -concurrency
// in flight) on every system that has a send function, and returns the
// windows pooled per system and in-flight count, in the order of systems.
func (b *bench) runRoundsA(ctx context.Context, systems []system, sends map[string]sendFunc) []loadResult {
	// Rounds interleave the systems (forward, then backward, …) so that a
	// neighbour's load or a growing database weighs on all of them alike.
	pooled := map[string]*loadResult{}
	for round := range b.opt.rounds {
		order := slices.Clone(systems)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, sys := range order {
			send := sends[sys.Name()]
			if send == nil {
				continue
			}
			for _, n := range []int{1, b.opt.concurrency} {
				k := fmt.Sprintf("%s/%d", sys.Name(), n)
				if pooled[k] == nil {
					pooled[k] = &loadResult{}
				}
				pooled[k].merge(b.closedLoop(ctx, sys.Name(), n, b.opt.duration, send))
			}
		}
	}
	var results []loadResult
	for _, sys := range systems {
		for _, n := range []int{1, b.opt.concurrency} {
			if r := pooled[fmt.Sprintf("%s/%d", sys.Name(), n)]; r != nil {
				results = append(results, *r)
			}
		}
	}
	return append(results, b.runBatchesA(ctx, systems)...)
}

// runBatchesA measures hookd with POST /v1/events/batch, one request of
// each -batches size in flight per publisher, -rounds windows each.
func (b *bench) runBatchesA(ctx context.Context, systems []system) []loadResult {
	if len(b.opt.batches) == 0 || !slices.ContainsFunc(systems, func(s system) bool { return s.Name() == "hookd" }) {
		return nil
	}
	send, err := hookdSys{b}.Batch(ctx)
	if err != nil {
		b.progress("hookd batches: setup failed: %v", err)
		b.failed = true
		return nil
	}
	var results []loadResult
	for _, size := range b.opt.batches {
		name := fmt.Sprintf("hookd batch %d", size)
		for _, n := range []int{1, b.opt.concurrency} {
			var r loadResult
			for range b.opt.rounds {
				r.merge(b.closedLoopOf(ctx, name, n, b.opt.duration, size, send))
			}
			results = append(results, r)
		}
	}
	return results
}

// printLoadTable prints scenario (a)'s table; a lost or refused event fails
// the run.
func (b *bench) printLoadTable(results []loadResult) {
	fmt.Printf("## (a) 1 endpoint, many events — closed loop, %d × %s windows after warm-up\n\n", b.opt.rounds, b.opt.duration)
	t := table{head: []string{"system", "in flight", "deliveries/s", "p50", "p95", "p99", "max", "lost", "errors", "CPU/delivery", "process cores", "other cores", "engine settle"}}
	for _, r := range results {
		t.add(r.System, fmt.Sprint(r.InFlight), fmt.Sprintf("%.1f", r.Rate), ms(r.Lat.pct(50)), ms(r.Lat.pct(95)),
			ms(r.Lat.pct(99)), ms(r.Lat.max()), fmt.Sprint(r.Lost), fmt.Sprint(r.Errors), r.cpuPerDelivery(),
			fmt.Sprintf("%.2f", r.CPU.self), fmt.Sprintf("%.2f", r.CPU.other()), ms(r.Settle))
		if r.Lost > 0 || r.Errors > 0 {
			b.failed = true
		}
	}
	t.print()
	if len(b.opt.batches) > 0 {
		fmt.Println("A \"hookd batch N\" row sends POST /v1/events/batch with N events: in flight counts requests (each of N events), " +
			"an event's latency is its request's, from the send to the request's last receipt.")
	}
	fmt.Println("CPU/delivery is this whole process (load generator, receiver, API, worker, Temporal) over the window and the engine settle after it; " +
		"other cores is what the rest of the machine used meanwhile; engine settle is the longest wait, after a window, for Temporal's deferred visibility writes.")
	fmt.Println()
}

// findLoad is the result of sys with n in flight, or nil.
func findLoad(results []loadResult, sys string, n int) *loadResult {
	for i := range results {
		if results[i].System == sys && results[i].InFlight == n {
			return &results[i]
		}
	}
	return nil
}

// printLoadRatios prints hookd/floor, hookd/network and floor/network for
// the pairs both of whose systems ran.
func (b *bench) printLoadRatios(results []loadResult) {
	rt := table{head: []string{"ratio", "1 in flight: p50", "1 in flight: p99", fmt.Sprintf("%d in flight: deliveries/s", b.opt.concurrency), fmt.Sprintf("%d in flight: p50", b.opt.concurrency)}}
	for _, pair := range [][2]string{{"hookd", "floor"}, {"hookd", "network"}, {"floor", "network"}} {
		a1, b1 := findLoad(results, pair[0], 1), findLoad(results, pair[1], 1)
		an, bn := findLoad(results, pair[0], b.opt.concurrency), findLoad(results, pair[1], b.opt.concurrency)
		if a1 == nil || b1 == nil || an == nil || bn == nil {
			continue
		}
		rt.add(pair[0]+"/"+pair[1],
			ratio(float64(a1.Lat.pct(50)), float64(b1.Lat.pct(50))),
			ratio(float64(a1.Lat.pct(99)), float64(b1.Lat.pct(99))),
			ratio(an.Rate, bn.Rate),
			ratio(float64(an.Lat.pct(50)), float64(bn.Lat.pct(50))))
	}
	rt.print()
}

// printClaimsA compares hookd with the README's claims, the peer gateway
// and the targets relative to the floor.
func (b *bench) printClaimsA(results []loadResult) {
	h1, f1 := findLoad(results, "hookd", 1), findLoad(results, "floor", 1)
	hn, fn := findLoad(results, "hookd", b.opt.concurrency), findLoad(results, "floor", b.opt.concurrency)
	if h1 != nil {
		fmt.Printf("hookd end to end, one event in flight: p50 %s (README claims ~10 ms for local activity + eager start; the peer gateway ~3 s)\n", ms(h1.Lat.pct(50)))
	}
	if hn != nil {
		fmt.Printf("hookd with %d publishers: %.1f deliveries/s (peer gateway on PostgreSQL+Redis, same machine kind: %.0f/s) = %s the peer\n",
			b.opt.concurrency, hn.Rate, peerRate, ratio(hn.Rate, peerRate))
	}
	if hn != nil && fn != nil && h1 != nil && f1 != nil {
		verdict := func(ok bool) string {
			if ok {
				return "met"
			}
			return "NOT met"
		}
		fmt.Printf("target hookd throughput ≥ 0.9× floor: %.2f× — %s\n", hn.Rate/fn.Rate, verdict(hn.Rate >= 0.9*fn.Rate))
		d := h1.Lat.pct(50) - f1.Lat.pct(50)
		fmt.Printf("target hookd p50 within 10 ms of floor's (1 in flight): %s vs %s, difference %s — %s\n",
			ms(h1.Lat.pct(50)), ms(f1.Lat.pct(50)), ms(d), verdict(d <= 10*time.Millisecond))
	}
	fmt.Println()
}

// Peer figures: a known open-source webhook gateway on PostgreSQL + Redis, on
// this machine kind.
const peerRate = 111.0
