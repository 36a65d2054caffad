package main

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/profile"
)

// benchSecret signs every POST of every system (network, floor, hookd), so
// the receiver verifies the same signature whatever sent it.
const benchSecret = "whsec_aG9va2QtYmVuY2gtc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY="

// receiver is the loopback HTTP server every system delivers to. It verifies
// the Standard Webhooks signature, reads the bench key from the payload
// ({"k": key, "t": tag}) and reports the receipt to the tracker.
type receiver struct {
	URL     string
	srv     *http.Server
	tracker *tracker

	badSig  atomic.Int64
	badBody atomic.Int64
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{URL: "http://" + ln.Addr().String(), tracker: newTracker()}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) Close() { _ = r.srv.Close() }

// envelope is the standard profile's body; data is the event payload.
type envelope struct {
	Data struct {
		K string          `json:"k"`
		T json.RawMessage `json:"t"`
	} `json:"data"`
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil || req.Method != http.MethodPost {
		r.badBody.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if !verify(req.Header, body) {
		r.badSig.Add(1)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Data.K == "" {
		r.badBody.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// The tag tells apart the receipts one key expects: the path for a
	// fan-out (one path per endpoint), "t" for a batch of events.
	r.tracker.receive(env.Data.K, req.URL.Path+"#"+string(env.Data.T), at)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
}

// verify checks webhook-signature against benchSecret.
func verify(h http.Header, body []byte) bool {
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		return false
	}
	want, err := profile.StandardSignature(benchSecret, h.Get("webhook-id"), ts, body)
	if err != nil {
		return false
	}
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if sig == want {
			return true
		}
	}
	return false
}

// tracker matches receipts to what was sent.
type tracker struct {
	mu      sync.Mutex
	waiting map[string]*waiter

	unexpected atomic.Int64 // receipts for no (or a finished) key
	duplicates atomic.Int64 // a tag received twice (at-least-once redelivery)
}

// waiter expects want distinct tags for one key.
type waiter struct {
	key         string
	start       time.Time
	want        int
	got         map[string]struct{}
	first, last time.Time
	done        chan struct{}
}

func newTracker() *tracker { return &tracker{waiting: map[string]*waiter{}} }

// expect registers a key before anything is sent for it; start is set when
// the caller begins sending (see begin).
func (t *tracker) expect(key string, want int) *waiter {
	w := &waiter{key: key, want: want, got: make(map[string]struct{}, min(want, 1024)), done: make(chan struct{})}
	t.mu.Lock()
	t.waiting[key] = w
	t.mu.Unlock()
	return w
}

// begin stamps the send time; it is read by the receiver under t.mu.
func (t *tracker) begin(w *waiter) time.Time {
	now := time.Now()
	t.mu.Lock()
	w.start = now
	t.mu.Unlock()
	return now
}

// forget drops a key that will not be waited for any more.
func (t *tracker) forget(w *waiter) {
	t.mu.Lock()
	if t.waiting[w.key] == w {
		delete(t.waiting, w.key)
	}
	t.mu.Unlock()
}

func (t *tracker) receive(key, tag string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.waiting[key]
	if w == nil {
		t.unexpected.Add(1)
		return
	}
	if _, dup := w.got[tag]; dup {
		t.duplicates.Add(1)
		return
	}
	w.got[tag] = struct{}{}
	if len(w.got) == 1 {
		w.first = at
	}
	w.last = at
	if len(w.got) == w.want {
		close(w.done)
		delete(t.waiting, key)
	}
}

// received reports how many distinct tags arrived so far.
func (t *tracker) received(w *waiter) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(w.got)
}

var errTimeout = errors.New("not received in time")

// wait blocks until every tag of w arrived or the timeout passed, and
// returns the time from begin to the last receipt.
func (t *tracker) wait(w *waiter, timeout time.Duration) (time.Duration, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-w.done:
		t.mu.Lock()
		defer t.mu.Unlock()
		return w.last.Sub(w.start), nil
	case <-timer.C:
		t.forget(w)
		return 0, errTimeout
	}
}
