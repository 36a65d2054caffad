package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

// listCase is one kind of GET /v1/deliveries request of scenario (d).
type listCase struct {
	Name string
	Lat  sample
	Rows int // rows in the last answer
}

// dResult is scenario (d).
type dResult struct {
	Skipped    string
	Attempts   int
	Deliveries int
	Events     int
	Endpoints  []seeded
	Seed       time.Duration
	Cases      []*listCase
}

// scenarioD: GET /v1/deliveries?endpoint_id=… latency with -attempts
// attempts (one per delivery) stored in PostgreSQL, through hookd's API
// (api.New over a store on a fresh schema).
func (b *bench) scenarioD(ctx context.Context) {
	r := b.runD(ctx)
	b.d = &r
	if r.Skipped != "" {
		b.progress("scenario d SKIPPED: %s", r.Skipped)
		fmt.Printf("## (d) list latency on PostgreSQL — skipped: %s\n\n", r.Skipped)
		return
	}
	var listed []string
	for _, e := range r.Endpoints {
		listed = append(listed, fmt.Sprintf("%s = %d deliveries", e.Name, e.Rows))
	}
	fmt.Printf("## (d) GET /v1/deliveries on PostgreSQL: %d attempts, %d deliveries, %d events, 12 endpoints; listed: %s; seeded in %s\n\n",
		r.Attempts, r.Deliveries, r.Events, strings.Join(listed, ", "), ms(r.Seed))
	t := table{head: []string{"request", "n", "rows", "p50", "p95", "max"}}
	for _, c := range r.Cases {
		t.add(c.Name, fmt.Sprint(len(c.Lat)), fmt.Sprint(c.Rows), ms(c.Lat.pct(50)), ms(c.Lat.pct(95)), ms(c.Lat.max()))
	}
	t.print()
}

func withParam(dsn, k, v string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(unparsable DSN)"
}

func (b *bench) runD(ctx context.Context) (r dResult) {
	dsn, err := withParam(b.opt.dsn, "connect_timeout", "3")
	if err != nil {
		return dResult{Skipped: "bad -dsn: " + err.Error()}
	}
	admin, err := models.Open(dsn)
	if err == nil {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = admin.Ping(pctx)
		cancel()
	}
	if err != nil {
		return dResult{Skipped: fmt.Sprintf("PostgreSQL at %s does not answer (%v)", redact(b.opt.dsn), err)}
	}
	defer admin.Close()

	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	schema := "hookd_bench_" + hex.EncodeToString(buf)
	if err := admin.DB().WithContext(ctx).Exec("CREATE SCHEMA " + schema).Error; err != nil {
		return dResult{Skipped: "create schema: " + err.Error()}
	}
	if b.opt.keepSchema {
		b.progress("scenario d: schema %s is kept (-keep-schema)", schema)
	} else {
		defer admin.DB().Exec("DROP SCHEMA " + schema + " CASCADE")
	}
	sdsn, err := withParam(dsn, "search_path", schema)
	if err != nil {
		return dResult{Skipped: err.Error()}
	}
	store, err := models.Open(sdsn)
	if err != nil {
		return dResult{Skipped: "open store: " + err.Error()}
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return dResult{Skipped: "migrate: " + err.Error()}
	}

	b.progress("scenario d: seeding %d attempts into schema %s", b.opt.attempts, schema)
	t0 := time.Now()
	eps, err := seed(ctx, store, b.opt.attempts, &r)
	if err != nil {
		r.Skipped = "seed: " + err.Error()
		return r
	}
	r.Seed = time.Since(t0)
	b.progress("scenario d: seeded in %s (%.0f attempts/s incl. deliveries and events)", ms(r.Seed), float64(r.Attempts)/r.Seed.Seconds())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.Skipped = err.Error()
		return r
	}
	key := "hookd-bench-list-key-0123456789"
	srv := &http.Server{Handler: api.New(api.Deps{Ops: operations.New(operations.Deps{Store: store}), APIKeys: []string{key},
		Logger: slog.New(slog.DiscardHandler)})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c := newAPIClient("http://"+ln.Addr().String(), key, 4)

	if b.opt.explain {
		b.explain(ctx, store, eps)
	}
	r.Endpoints = eps
	r.Cases = b.measureList(ctx, c, eps)
	return r
}

// seeded describes the endpoints scenario (d) lists.
type seeded struct {
	Name string // "10%", "0.9%", "0.1%"
	ID   string
	Rows int
}

// seed writes n attempts, one per delivery, for n/10 events each fanned out
// to 10 endpoints: slots 0–8 go to nine big endpoints (10% of all
// deliveries each); slot 9 goes to a tenth big one, except for every 10th
// event (a medium endpoint, 0.9%) and every 100th (a small one, 0.1%).
// Statuses: 1% failed, 1% pending, the rest succeeded. Ids have hookd's
// shape (prefix + 26 Crockford characters) and grow with created_at, as
// NewID's do. It returns the big, medium and small endpoints.
func seed(ctx context.Context, s *models.Store, n int, r *dResult) ([]seeded, error) {
	const slots = 10
	n = max(n/(slots*100)*slots*100, slots*100)
	events := n / slots
	base := time.Now().Add(-time.Duration(events+10) * time.Second).Unix()
	var eps []string
	now := time.Now().UTC()
	for i := range slots + 2 {
		e := &models.Endpoint{
			ID: models.NewID("ep"), TenantID: "bench-d", URL: "http://127.0.0.1:9/d", EventTypes: []string{"*"},
			Profile: "standard", Secret: benchSecret, RetrySchedule: models.DefaultSchedule,
			TimeoutMS: 30000, PauseThreshold: models.DefaultPauseThreshold, State: models.EndpointActive,
			Description: fmt.Sprintf("hookd-bench %d", i), CreatedAt: now, UpdatedAt: now,
		}
		if err := s.CreateEndpoint(ctx, e); err != nil {
			return nil, err
		}
		eps = append(eps, "'"+e.ID+"'")
	}
	id := func(prefix, expr string) string {
		return fmt.Sprintf("'%s_' || lpad(upper(to_hex(%s)), 26, '0')", prefix, expr)
	}
	ts := func(expr string) string { return fmt.Sprintf("to_timestamp(%d + (%s))", base, expr) }
	ev := fmt.Sprintf("((g - 1) / %d + 1)", slots)
	slot := fmt.Sprintf("((g - 1) %% %d)", slots)
	// 1-based index into ARRAY[eps]: slot+1, or 11 (medium), 12 (small).
	epIdx := fmt.Sprintf("CASE WHEN %[1]s < %[2]d THEN %[1]s + 1 WHEN %[3]s %% 100 = 0 THEN %[4]d WHEN %[3]s %% 10 = 0 THEN %[5]d ELSE %[6]d END",
		slot, slots-1, ev, slots+2, slots+1, slots)
	roll := "(abs(hashint4(g)::bigint) % 100)"
	status := "CASE " + roll + " WHEN 0 THEN 'failed' WHEN 1 THEN 'pending' ELSE 'succeeded' END"
	code := "CASE " + roll + " WHEN 0 THEN 500 ELSE 200 END"
	errText := "CASE " + roll + " WHEN 0 THEN 'HTTP 500' ELSE '' END"
	stmts := []string{
		"SET LOCAL synchronous_commit = off",
		fmt.Sprintf(`INSERT INTO events (id, tenant_id, type, payload, occurred_at, idempotency_key, request_hash, created_at)
SELECT %s, 'bench-d', 'bench.d', '{"k":"d","t":' || g || '}', %s, 'bench-d-' || g, md5(g::text), %s
FROM generate_series(1, %d) g`, id("evt", "g"), ts("g"), ts("g"), events),
		fmt.Sprintf(`INSERT INTO deliveries (id, endpoint_id, event_id, status, attempt_count, last_status_code, last_error, last_attempt_at, next_attempt_at, created_at, updated_at)
SELECT %s, (ARRAY[%s])[%s], %s, %s, 1, %s, %s, %s, NULL, %s, %s
FROM generate_series(1, %d) g`, id("dlv", "g"), strings.Join(eps, ","), epIdx, id("evt", ev),
			status, code, errText, ts(ev), ts(ev), ts(ev), n),
		fmt.Sprintf(`INSERT INTO attempts (id, delivery_id, number, "trigger", url, request_headers, status_code, succeeded, latency_ms, response_excerpt, error, started_at, created_at)
SELECT %s, %s, 1, 'schedule', 'http://127.0.0.1:9/d', '{"Webhook-Id":"evt"}', %s, (%s) = 200, 12.5, 'ok', %s, %s, %s
FROM generate_series(1, %d) g`, id("att", "g"), id("dlv", "g"), code, code, errText, ts(ev), ts(ev), n),
	}
	db := s.DB().WithContext(ctx)
	tx := db.Begin()
	for _, q := range stmts {
		if err := tx.Exec(q).Error; err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("%w\n%s", err, q)
		}
	}
	if err := tx.Commit().Error; err != nil {
		return nil, err
	}
	// A live database has planner statistics; a table filled a second ago
	// has none until autovacuum gets to it.
	if err := db.Exec("ANALYZE endpoints, events, deliveries, attempts").Error; err != nil {
		return nil, err
	}
	r.Attempts, r.Deliveries, r.Events = n, n, events
	unq := func(i int) string { return strings.Trim(eps[i], "'") }
	out := []seeded{{"10%", unq(0), 0}, {"0.9%", unq(slots), 0}, {"0.1%", unq(slots + 1), 0}}
	for i := range out {
		var c int64
		if err := db.Model(&models.Delivery{}).Where("endpoint_id = ?", out[i].ID).Count(&c).Error; err != nil {
			return nil, err
		}
		out[i].Rows = int(c)
	}
	return out, nil
}

// measureList times the list route -list-rounds times for each case.
func (b *bench) measureList(ctx context.Context, c *apiClient, eps []seeded) []*listCase {
	type page struct {
		Data       []map[string]any `json:"data"`
		NextCursor *string          `json:"next_cursor"`
	}
	get := func(q url.Values) (page, time.Duration, error) {
		var p page
		t0 := time.Now()
		err := c.call(ctx, http.MethodGet, "/v1/deliveries?"+q.Encode(), nil, &p)
		return p, time.Since(t0), err
	}
	cases := map[string]*listCase{}
	var order []*listCase
	rec := func(name string, p page, d time.Duration) {
		lc := cases[name]
		if lc == nil {
			lc = &listCase{Name: name}
			cases[name] = lc
			order = append(order, lc)
		}
		lc.Lat = append(lc.Lat, d)
		lc.Rows = len(p.Data)
	}
	var failed error
	round := func(record bool) {
		note := func(name string, p page, d time.Duration, err error) bool {
			if err != nil {
				failed = err
				return false
			}
			if record {
				rec(name, p, d)
			}
			return true
		}
		for _, e := range eps {
			// First page, then four more by cursor.
			q := url.Values{"endpoint_id": {e.ID}}
			p, d, err := get(q)
			if !note(e.Name+" endpoint: first page (limit 50)", p, d, err) {
				return
			}
			for range 4 {
				if p.NextCursor == nil {
					break
				}
				q.Set("cursor", *p.NextCursor)
				p, d, err = get(q)
				if !note(e.Name+" endpoint: pages 2–5 by cursor", p, d, err) {
					return
				}
			}
			p, d, err = get(url.Values{"endpoint_id": {e.ID}, "limit": {"250"}})
			note(e.Name+" endpoint: limit 250", p, d, err)
			p, d, err = get(url.Values{"endpoint_id": {e.ID}, "status": {models.DeliveryFailed}})
			note(e.Name+" endpoint: status=failed (1%)", p, d, err)
		}
		p, d, err := get(url.Values{})
		note("no filter: first page", p, d, err)
	}
	round(false) // warm-up
	for range b.opt.listRounds {
		round(true)
	}
	if failed != nil {
		b.progress("scenario d: a list request failed: %v", failed)
		b.failed = true
	}
	return order
}

// explain prints PostgreSQL's plan for the list route's queries.
func (b *bench) explain(ctx context.Context, s *models.Store, eps []seeded) {
	for _, e := range eps {
		for _, q := range []string{
			fmt.Sprintf(`SELECT * FROM "deliveries" WHERE endpoint_id = '%s' ORDER BY id DESC LIMIT 51`, e.ID),
			fmt.Sprintf(`SELECT * FROM "deliveries" WHERE endpoint_id = '%s' AND status = 'failed' ORDER BY id DESC LIMIT 51`, e.ID),
		} {
			var lines []string
			if err := s.DB().WithContext(ctx).Raw("EXPLAIN (ANALYZE, BUFFERS) " + q).Scan(&lines).Error; err != nil {
				b.progress("explain: %v", err)
				continue
			}
			fmt.Printf("%s endpoint (%d deliveries):\n```\n%s\n%s\n```\n\n", e.Name, e.Rows, q, strings.Join(lines, "\n"))
		}
	}
}
