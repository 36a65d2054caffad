package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"
)

// loadResult is one measurement window of the closed loop.
type loadResult struct {
	System   string
	InFlight int
	Window   time.Duration
	// Delivered counts receipts inside the window; Rate is Delivered/Window.
	Delivered int
	Rate      float64
	// Lat are ingest→receipt latencies of events sent inside the window.
	Lat      sample
	Lost     int // sent, never received within the timeout
	Errors   int // refused by the system (non-2xx, start failure)
	FirstErr error
	CPU      cpuUse
	// Settle is how long the engine took, after the window, to finish the
	// work it had deferred (visibility records); CPUSettled covers window +
	// settle, so CPU per delivery includes that deferred work.
	Settle     time.Duration
	CPUSettled time.Duration
	Windows    int
}

// merge pools another window of the same system and in-flight count.
func (r *loadResult) merge(o loadResult) {
	if r.Windows == 0 {
		*r = o
		return
	}
	r.Window += o.Window
	r.Delivered += o.Delivered
	r.Rate = float64(r.Delivered) / r.Window.Seconds()
	r.Lat = append(r.Lat, o.Lat...)
	r.Lost += o.Lost
	r.Errors += o.Errors
	if r.FirstErr == nil {
		r.FirstErr = o.FirstErr
	}
	w := r.CPU.wall + o.CPU.wall
	r.CPU = cpuUse{wall: w, selfCPU: r.CPU.selfCPU + o.CPU.selfCPU,
		self:    (r.CPU.self*float64(r.CPU.wall) + o.CPU.self*float64(o.CPU.wall)) / float64(w),
		machine: (r.CPU.machine*float64(r.CPU.wall) + o.CPU.machine*float64(o.CPU.wall)) / float64(w)}
	r.Settle = max(r.Settle, o.Settle)
	r.CPUSettled += o.CPUSettled
	r.Windows += o.Windows
}

// cpuPerDelivery is the process CPU (all of hookd, Temporal, the receiver
// and the load generator) per delivery, in ms.
func (r loadResult) cpuPerDelivery() string {
	if r.Delivered == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f ms", float64(r.CPUSettled)/float64(time.Millisecond)/float64(r.Delivered))
}

// closedLoop runs inFlight publishers for warm-up + dur. Each keeps exactly
// one event in flight: send, wait for its receipt at the receiver, send the
// next. Throughput is receipts inside the window (after warm-up) per second;
// latency is from just before send to the receipt, for events sent inside
// the window.
func (b *bench) closedLoop(ctx context.Context, sys string, inFlight int, dur time.Duration, send sendFunc) loadResult {
	return b.closedLoopOf(ctx, sys, inFlight, dur, 1, func(ctx context.Context, key string, _ int) error { return send(ctx, key) })
}

// closedLoopOf is closedLoop with requests of size events each: a publisher
// sends one request and waits for all its events' receipts before the next.
// Every receipt counts as a delivery; an event's latency is its request's,
// from the send to the request's last receipt.
func (b *bench) closedLoopOf(ctx context.Context, sys string, inFlight int, dur time.Duration, size int, send batchFunc) loadResult {
	warm := min(dur/5, 2*time.Second)
	var (
		tally   loopTally
		wg      sync.WaitGroup
		begin   = time.Now()
		from    = begin.Add(warm)
		stopAt  = from.Add(dur)
		cpuFrom = make(chan cpuSnap, 1)
		cpuTo   = make(chan cpuSnap, 1)
	)
	time.AfterFunc(warm, func() { cpuFrom <- snapCPU() })
	time.AfterFunc(warm+dur, func() { cpuTo <- snapCPU() })
	// Keys (hookd: Idempotency-Keys) must be new in every window.
	b.windows++
	prefix := fmt.Sprintf("a-%s-%s-%d-w%d", b.runID, strings.ReplaceAll(sys, " ", "_"), inFlight, b.windows)
	for p := range inFlight {
		wg.Go(func() { b.publish(ctx, send, size, fmt.Sprintf("%s-%d", prefix, p), stopAt, &tally) })
	}
	wg.Wait()
	c0, c1 := <-cpuFrom, <-cpuTo
	r := loadResult{System: sys, InFlight: inFlight, Window: dur, Lost: tally.lost, Errors: tally.errs, FirstErr: tally.first,
		CPU: c0.until(c1), Windows: 1}
	r.Settle = b.settle(ctx)
	r.CPUSettled = c0.until(snapCPU()).selfCPU
	r.Delivered, r.Lat = tally.inWindow(from, stopAt)
	r.Rate = float64(r.Delivered) / dur.Seconds()
	b.progress("%-8s %3d in flight: %7.1f deliveries/s, p50 %s p99 %s, lost %d, errors %d, %s, engine settled in %s",
		sys, inFlight, r.Rate, ms(r.Lat.pct(50)), ms(r.Lat.pct(99)), r.Lost, r.Errors, r.CPU, ms(r.Settle))
	if r.FirstErr != nil {
		b.progress("%-8s first error: %v", sys, r.FirstErr)
	}
	return r
}

// publish is one publisher of the closed loop: until stopAt, it sends a
// request of size events keyed prefix-i and waits for their receipts, then
// sends the next.
func (b *bench) publish(ctx context.Context, send batchFunc, size int, prefix string, stopAt time.Time, tally *loopTally) {
	for i := 0; time.Now().Before(stopAt) && ctx.Err() == nil; i++ {
		w := b.recv.tracker.expect(fmt.Sprintf("%s-%d", prefix, i), size)
		t0 := b.recv.tracker.begin(w)
		if err := send(ctx, w.key, size); err != nil {
			b.recv.tracker.forget(w)
			tally.refused(err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		lat, err := b.recv.tracker.wait(w, b.opt.timeout)
		tally.waited(t0, lat, size, err)
	}
}

// batchFunc sends size events carrying key (tags 0 … size-1) in one request;
// it returns once the system has accepted them.
type batchFunc func(ctx context.Context, key string, size int) error

// receipt is one request of the closed loop: sent at start, its last event
// received at end; n events.
type receipt struct {
	start, end time.Time
	n          int
}

// loopTally is what the publishers of one closed loop saw.
type loopTally struct {
	mu    sync.Mutex
	recs  []receipt
	lost  int
	errs  int
	first error
}

// refused counts a send the system refused.
func (t *loopTally) refused(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errs++
	if t.first == nil {
		t.first = err
	}
}

// waited records the receipt of an event sent at t0, lat later, or its loss.
func (t *loopTally) waited(t0 time.Time, lat time.Duration, n int, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.lost += n
		return
	}
	t.recs = append(t.recs, receipt{t0, t0.Add(lat), n})
}

// inWindow counts the receipts between from and stopAt, and gives the
// latencies of the events sent between them.
func (t *loopTally) inWindow(from, stopAt time.Time) (delivered int, lat sample) {
	for _, x := range t.recs {
		if !x.end.Before(from) && !x.end.After(stopAt) {
			delivered += x.n
		}
		if !x.start.Before(from) && x.start.Before(stopAt) {
			for range x.n {
				lat = append(lat, x.end.Sub(x.start))
			}
		}
	}
	return delivered, lat
}

// shot is one event sent to want receivers at once (fan-out, release).
type shot struct {
	Accepted time.Duration // until send returned (hookd: the 202)
	First    time.Duration // until the first receipt
	Last     time.Duration // until the last receipt
	Received int
	Err      error
}

// fire sends key once with send and waits for want distinct receipts.
func (b *bench) fire(ctx context.Context, key string, want int, send sendFunc) shot {
	w := b.recv.tracker.expect(key, want)
	t0 := b.recv.tracker.begin(w)
	var s shot
	if s.Err = send(ctx, key); s.Err != nil {
		b.recv.tracker.forget(w)
		return s
	}
	s.Accepted = time.Since(t0)
	return b.await(w, t0, want, s)
}

// await waits for the receipts of w (sent at t0) and fills s.
func (b *bench) await(w *waiter, t0 time.Time, want int, s shot) shot {
	timeout := max(b.opt.timeout, time.Duration(want)*200*time.Millisecond)
	last, err := b.recv.tracker.wait(w, timeout)
	b.recv.tracker.mu.Lock()
	s.Received = len(w.got)
	if !w.first.IsZero() {
		s.First = w.first.Sub(t0)
	}
	b.recv.tracker.mu.Unlock()
	if err != nil {
		s.Err = fmt.Errorf("%d of %d received after %s: %w", s.Received, want, timeout, err)
		return s
	}
	s.Last = last
	return s
}

func (b *bench) progress(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[%s] "+format+"\n", append([]any{time.Since(b.started).Truncate(100 * time.Millisecond)}, a...)...)
}

// settle waits until the engine has caught up with the work a window left
// behind: Temporal records a workflow's visibility (the list the UI and
// CountWorkflow read) asynchronously, so right after a burst the count of
// running workflows still includes finished ones. It polls that count until
// it stops changing for a second (at most a minute) and returns how long
// that took; zero without an engine.
func (b *bench) settle(ctx context.Context) time.Duration {
	if b.temporal == nil {
		return 0
	}
	t0 := time.Now()
	last, since := int64(-1), time.Now()
	for time.Since(t0) < time.Minute && ctx.Err() == nil {
		resp, err := b.temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Namespace: b.hookd.Config.TemporalNamespace, Query: "ExecutionStatus = 'Running'"})
		if err != nil {
			b.progress("settle: count workflows: %v", err)
			return time.Since(t0)
		}
		if resp.GetCount() != last {
			last, since = resp.GetCount(), time.Now()
		} else if time.Since(since) >= time.Second {
			return since.Sub(t0)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(t0)
}
