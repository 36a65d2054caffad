package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
)

// A system is one way of getting a signed POST to the receiver: the network
// limit (plain Go POSTs), the engine floor (the cheapest workflow doing the
// POST) or hookd end to end.
type system interface {
	Name() string
	// Single prepares scenario (a) and returns a function that sends one
	// event whose payload carries key; the receipt arrives on path /a.
	Single(ctx context.Context) (sendFunc, error)
	// Fanout prepares scenario (b) for n endpoints and returns a function
	// that sends one event with key to all of them (paths /b/0 … /b/n-1).
	Fanout(ctx context.Context, n int) (sendFunc, error)
	// Held runs scenario (c): n deliveries held, then released at once.
	Held(ctx context.Context, n int) heldResult
}

// sendFunc sends something carrying key; it returns once the system has
// accepted it, not when it is delivered.
type sendFunc func(ctx context.Context, key string) error

// message is one event to one receiver URL.
type message struct {
	URL       string
	EventID   string
	EventType string
	TenantID  string
	Payload   json.RawMessage
}

// payload is the event payload every system sends: the bench key, a tag that
// tells apart the events of one batch, and a little realistic content.
func payload(key string, tag int) json.RawMessage {
	return json.RawMessage(`{"k":` + strconv.Quote(key) + `,"t":` + strconv.Itoa(tag) +
		`,"lead":{"id":"lead_42","name":"Ada Lovelace","email":"ada@example.com","source":"hookd-bench"}}`)
}

// deliverOnce does what one successful hookd attempt does on the wire:
// render and sign with the standard profile, POST, read at most the response
// excerpt and drain the rest.
func deliverOnce(ctx context.Context, c *http.Client, m message) error {
	p, err := profile.Lookup("standard")
	if err != nil {
		return err
	}
	now := time.Now()
	r, err := p.Render(profile.Message{
		EventID: m.EventID, EventType: m.EventType, TenantID: m.TenantID, Payload: m.Payload,
		OccurredAt: now, Attempt: 1, SentAt: now,
	}, profile.Keys{Current: benchSecret})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(r.Body))
	if err != nil {
		return err
	}
	req.Header = r.Header
	req.Header.Set("User-Agent", "hookd/1")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.ReadAll(io.LimitReader(resp.Body, models.MaxResponseExcerpt))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return nil
}

// parallel runs fn(i) for i in [0, n) with at most par at once and returns
// the first error.
func parallel(n, par int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, par)
	)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// fanParallelism is how many POSTs or starts a fan-out runs at once in the
// network and floor systems: the same bound hookd's API uses
// (api/start.go startParallelism).
const fanParallelism = 32

// networkSys is the network limit: the benchmark process itself renders,
// signs and POSTs, with no engine and no database.
type networkSys struct{ b *bench }

func (networkSys) Name() string { return "network" }

func (s networkSys) Single(context.Context) (sendFunc, error) {
	return func(ctx context.Context, key string) error {
		return deliverOnce(ctx, s.b.deliverHTTP, message{URL: s.b.recv.URL + "/a", EventID: models.NewID("evt"),
			EventType: "bench.a", TenantID: "bench", Payload: payload(key, 0)})
	}, nil
}

func (s networkSys) Fanout(_ context.Context, n int) (sendFunc, error) {
	return func(ctx context.Context, key string) error {
		id, body := models.NewID("evt"), payload(key, 0)
		return parallel(n, fanParallelism, func(i int) error {
			return deliverOnce(ctx, s.b.deliverHTTP, message{URL: fmt.Sprintf("%s/b/%d", s.b.recv.URL, i),
				EventID: id, EventType: "bench.b", TenantID: "bench", Payload: body})
		})
	}, nil
}
