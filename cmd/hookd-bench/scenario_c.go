package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/hookd/hookd/models"
)

// heldResult is scenario (c) for one system.
type heldResult struct {
	System  string
	N       int
	Skipped string // why the system did not run the scenario
	// Prepare is the time to put the N deliveries on hold: hookd ingesting N
	// events for a paused endpoint, the floor starting N workflows that wait
	// for a signal. Held is how many were seen held before the release.
	Prepare time.Duration
	Held    int
	// Leaked counts receipts before the release (must be 0).
	Leaked  int
	Release shot
}

// scenarioC: -held deliveries held, then released at once; the time from the
// release to the last receipt.
func (b *bench) scenarioC(ctx context.Context) {
	n := b.opt.held
	b.progress("scenario c: %d held deliveries released at once", n)
	var results []heldResult
	for _, sys := range b.systems() {
		if d := b.settle(ctx); d > time.Second {
			b.progress("engine settled in %s before %s", ms(d), sys.Name())
		}
		r := sys.Held(ctx, n)
		r.System, r.N = sys.Name(), n
		switch {
		case r.Skipped != "":
			b.progress("%-8s SKIPPED: %s", r.System, r.Skipped)
		default:
			b.progress("%-8s %d held (prepared in %s), released: accepted %s, first receipt %s, last %s, %d received, leaked before release %d, error %v",
				r.System, r.Held, ms(r.Prepare), ms(r.Release.Accepted), ms(r.Release.First), ms(r.Release.Last),
				r.Release.Received, r.Leaked, r.Release.Err)
			if r.Release.Err != nil || r.Leaked > 0 {
				b.failed = true
			}
		}
		results = append(results, r)
	}
	b.c = results

	fmt.Printf("## (c) %d held deliveries released at once — time from release to last receipt\n\n", n)
	t := table{head: []string{"system", "held", "put on hold in", "release accepted", "first receipt", "last receipt", "received", "deliveries/s", "leaked"}}
	var skipped []string
	for _, r := range results {
		if r.Skipped != "" {
			skipped = append(skipped, fmt.Sprintf("%s skipped: %s\n", r.System, r.Skipped))
			continue
		}
		rate := "–"
		if r.Release.Last > 0 {
			rate = fmt.Sprintf("%.1f", float64(r.Release.Received)/r.Release.Last.Seconds())
		}
		held := fmt.Sprint(r.Held)
		if r.System == "network" {
			held = "–"
		}
		t.add(r.System, held, ms(r.Prepare), ms(r.Release.Accepted), ms(r.Release.First), ms(r.Release.Last),
			fmt.Sprintf("%d/%d", r.Release.Received, n), rate, fmt.Sprint(r.Leaked))
	}
	t.print()
	for _, s := range skipped {
		fmt.Print(s)
	}
	if len(skipped) > 0 {
		fmt.Println()
	}
}

// Held for the network: nothing to hold; N POSTs with -concurrency at once.
func (s networkSys) Held(ctx context.Context, n int) heldResult {
	key := fmt.Sprintf("c-%s-network", s.b.runID)
	return heldResult{Held: n, Release: s.b.fire(ctx, key, n, func(ctx context.Context, key string) error {
		id := models.NewID("evt")
		return parallel(n, s.b.opt.concurrency, func(i int) error {
			return deliverOnce(ctx, s.b.deliverHTTP, message{URL: s.b.recv.URL + "/c", EventID: fmt.Sprintf("%s_%d", id, i),
				EventType: "bench.c", TenantID: "bench", Payload: payload(key, i)})
		})
	})}
}

// Held for the floor: N workflows that wait for a signal, then N signals
// with -concurrency at once.
func (s floorSys) Held(ctx context.Context, n int) heldResult {
	key := fmt.Sprintf("c-%s-floor", s.b.runID)
	w := s.b.recv.tracker.expect(key, n)
	var r heldResult
	id := func(i int) string { return fmt.Sprintf("bench-floor-held/%s/%d", key, i) }
	t0 := time.Now()
	err := parallel(n, s.b.opt.concurrency, func(i int) error {
		return s.start(ctx, floorHeldName, id(i), message{URL: s.b.recv.URL + "/c", EventID: models.NewID("evt"),
			EventType: "bench.c", TenantID: "bench", Payload: payload(key, i)})
	})
	r.Prepare = time.Since(t0)
	if err != nil {
		s.b.recv.tracker.forget(w)
		r.Release.Err = err
		return r
	}
	r.Held = n
	s.b.settle(ctx) // let the last first workflow tasks and their visibility records settle
	r.Leaked = s.b.recv.tracker.received(w)
	t1 := s.b.recv.tracker.begin(w)
	if err := parallel(n, s.b.opt.concurrency, func(i int) error {
		return s.b.temporal.SignalWorkflow(ctx, id(i), "", floorReleaseSignal, nil)
	}); err != nil {
		s.b.recv.tracker.forget(w)
		r.Release.Err = err
		return r
	}
	r.Release = s.b.await(w, t1, n, shot{Accepted: time.Since(t1)})
	return r
}

// Held for hookd: pause an endpoint (POST /v1/endpoints/{id}/pause), ingest N
// events for it, wait until its N deliveries are held, unpause
// (POST /v1/endpoints/{id}/unpause) and wait for the N receipts.
func (s hookdSys) Held(ctx context.Context, n int) heldResult {
	var r heldResult
	tenant := "bench-c-" + s.b.runID
	ids, err := s.createEndpoints(ctx, tenant, "bench.c", []string{"/c"})
	if err != nil {
		r.Skipped = "create endpoint: " + err.Error()
		return r
	}
	ep := ids[0]
	if skip := routeMissing(s.b.api.call(ctx, http.MethodPost, "/v1/endpoints/"+ep+"/pause",
		map[string]any{"reason": "hookd-bench scenario c"}, nil), "pause"); skip != "" {
		r.Skipped = skip
		return r
	}

	key := fmt.Sprintf("c-%s-hookd", s.b.runID)
	w := s.b.recv.tracker.expect(key, n)
	t0 := time.Now()
	if err := parallel(n, s.b.opt.concurrency, func(i int) error {
		return s.postEvent(ctx, tenant, "bench.c", key, i)
	}); err != nil {
		s.b.recv.tracker.forget(w)
		r.Release.Err = fmt.Errorf("ingest while paused: %w", err)
		return r
	}
	r.Prepare = time.Since(t0)
	s.b.progress("hookd    %d events ingested for the paused endpoint in %s (%.1f events/s); waiting until they are held",
		n, ms(r.Prepare), float64(n)/r.Prepare.Seconds())

	held, err := s.waitHeld(ctx, ep, n)
	r.Held = held
	if err != nil {
		s.b.recv.tracker.forget(w)
		r.Release.Err = fmt.Errorf("count held deliveries: %w", err)
		return r
	}
	s.b.settle(ctx)
	r.Leaked = s.b.recv.tracker.received(w)
	s.b.progress("hookd    %d of %d deliveries held, %d delivered while paused; unpausing", r.Held, n, r.Leaked)

	t1 := s.b.recv.tracker.begin(w)
	if skip := routeMissing(s.b.api.call(ctx, http.MethodPost, "/v1/endpoints/"+ep+"/unpause", map[string]any{}, nil), "unpause"); skip != "" {
		s.b.recv.tracker.forget(w)
		r.Skipped = skip
		return r
	}
	r.Release = s.b.await(w, t1, n, shot{Accepted: time.Since(t1)})
	return r
}

// waitHeld waits until n of the endpoint's deliveries are held, or until
// their count stopped moving for 20s, and returns the last count.
func (s hookdSys) waitHeld(ctx context.Context, endpointID string, n int) (int, error) {
	lastChange, last := time.Now(), -1
	for {
		held, err := s.countHeld(ctx, endpointID)
		if err != nil {
			return max(last, 0), err
		}
		if held != last {
			last, lastChange = held, time.Now()
		}
		if held >= n || time.Since(lastChange) > 20*time.Second {
			return held, nil
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// routeMissing turns a 404 from a route that should exist into a skip
// reason; any other error is a skip reason too, with its message.
func routeMissing(err error, what string) string {
	var ae *apiError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		return fmt.Sprintf("POST /v1/endpoints/{id}/%s answers 404 — the pause/unpause routes are not there yet", what)
	default:
		return fmt.Sprintf("POST /v1/endpoints/{id}/%s failed: %v", what, err)
	}
}

// countHeld counts an endpoint's held deliveries: held_count of
// GET /v1/endpoints/{id}/health, or else by paging through the list route.
func (s hookdSys) countHeld(ctx context.Context, endpointID string) (int, error) {
	var h struct {
		HeldCount *int `json:"held_count"`
	}
	err := s.b.api.call(ctx, http.MethodGet, "/v1/endpoints/"+endpointID+"/health", nil, &h)
	if err == nil && h.HeldCount != nil {
		return *h.HeldCount, nil
	}
	n, cursor := 0, ""
	for {
		q := url.Values{"endpoint_id": {endpointID}, "status": {models.DeliveryHeld}, "limit": {"250"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Data       []struct{} `json:"data"`
			NextCursor *string    `json:"next_cursor"`
		}
		if err := s.b.api.call(ctx, http.MethodGet, "/v1/deliveries?"+q.Encode(), nil, &page); err != nil {
			return 0, err
		}
		n += len(page.Data)
		if page.NextCursor == nil {
			return n, nil
		}
		cursor = *page.NextCursor
	}
}
