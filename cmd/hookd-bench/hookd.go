package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// hookdSys is hookd end to end: POST /v1/events on the real API, the real
// worker and the embedded Temporal server, then hookd's POST to the receiver.
type hookdSys struct{ b *bench }

func (hookdSys) Name() string { return "hookd" }

// apiError is a non-2xx answer of hookd's API.
type apiError struct {
	Status int
	Body   string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("hookd answered %d: %s", e.Status, strings.TrimSpace(e.Body))
}

// apiClient calls one hookd API.
type apiClient struct {
	base, key string
	http      *http.Client
}

func newAPIClient(base, key string, conns int) *apiClient {
	return &apiClient{base: base, key: key, http: &http.Client{
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 90 * time.Second},
		Timeout:   5 * time.Minute,
	}}
}

// call sends one API request and decodes a 2xx JSON answer into out (if not
// nil). A non-2xx answer is an *apiError.
func (c *apiClient) call(ctx context.Context, method, path string, body any, out any, header ...string) error {
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &apiError{Status: resp.StatusCode, Body: string(raw)}
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// createEndpoints creates one endpoint per receiver path, all for tenant and
// eventType, signed with benchSecret.
func (s hookdSys) createEndpoints(ctx context.Context, tenant, eventType string, paths []string) ([]string, error) {
	ids := make([]string, len(paths))
	err := parallel(len(paths), 8, func(i int) error {
		var out struct {
			ID string `json:"id"`
		}
		err := s.b.api.call(ctx, http.MethodPost, "/v1/endpoints", map[string]any{
			"url": s.b.recv.URL + paths[i], "tenant_id": tenant, "event_types": []string{eventType},
			"secret": benchSecret, "timeout": "10s", "description": "hookd-bench",
		}, &out)
		ids[i] = out.ID
		return err
	})
	return ids, err
}

// postEvent ingests one event with the bench payload; idempotency key = key/tag.
func (s hookdSys) postEvent(ctx context.Context, tenant, eventType, key string, tag int) error {
	return s.b.api.call(ctx, http.MethodPost, "/v1/events", map[string]any{
		"type": eventType, "tenant_id": tenant, "payload": payload(key, tag),
	}, nil, "Idempotency-Key", fmt.Sprintf("%s.%d", key, tag))
}

func (s hookdSys) Single(ctx context.Context) (sendFunc, error) {
	tenant := "bench-a-" + s.b.runID
	if _, err := s.createEndpoints(ctx, tenant, "bench.a", []string{"/a"}); err != nil {
		return nil, err
	}
	return func(ctx context.Context, key string) error {
		return s.postEvent(ctx, tenant, "bench.a", key, 0)
	}, nil
}

// Batch prepares scenario (a) with POST /v1/events/batch: one request
// carries size events to the one endpoint.
func (s hookdSys) Batch(ctx context.Context) (batchFunc, error) {
	tenant := "bench-ab-" + s.b.runID
	if _, err := s.createEndpoints(ctx, tenant, "bench.a", []string{"/a"}); err != nil {
		return nil, err
	}
	return func(ctx context.Context, key string, size int) error {
		events := make([]map[string]any, size)
		for tag := range events {
			events[tag] = map[string]any{"type": "bench.a", "tenant_id": tenant, "payload": payload(key, tag),
				"idempotency_key": fmt.Sprintf("%s.%d", key, tag)}
		}
		return s.b.api.call(ctx, http.MethodPost, "/v1/events/batch", map[string]any{"events": events}, nil)
	}, nil
}

func (s hookdSys) Fanout(ctx context.Context, n int) (sendFunc, error) {
	tenant := fmt.Sprintf("bench-b%d-%s", n, s.b.runID)
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("/b/%d", i)
	}
	if _, err := s.createEndpoints(ctx, tenant, "bench.b", paths); err != nil {
		return nil, err
	}
	return func(ctx context.Context, key string) error {
		return s.postEvent(ctx, tenant, "bench.b", key, 0)
	}, nil
}
