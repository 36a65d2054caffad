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

	"gorm.io/gorm"

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
	// Prune and CasesAfterPrune are there with -prune-share: the prune
	// and the list requests made again after it.
	Prune           *pruneResult
	CasesAfterPrune []*listCase
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
	t := table{head: []string{"request", "n", "rows (bytes for pages)", "p50", "p95", "max"}}
	for _, c := range r.Cases {
		t.add(c.Name, fmt.Sprint(len(c.Lat)), fmt.Sprint(c.Rows), ms(c.Lat.pct(50)), ms(c.Lat.pct(95)), ms(c.Lat.max()))
	}
	t.print()
	if r.Prune != nil {
		printPrune(r.Prune, r.Cases, r.CasesAfterPrune)
	}
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
	admin, err := openAndPing(ctx, dsn)
	if err != nil {
		return dResult{Skipped: fmt.Sprintf("PostgreSQL at %s does not answer (%v)", redact(b.opt.dsn), err)}
	}
	defer admin.Close()
	store, schema, closeStore, err := b.openFreshSchema(ctx, admin, dsn)
	if err != nil {
		return dResult{Skipped: err.Error()}
	}
	defer closeStore()

	b.progress("scenario d: seeding %d attempts into schema %s", b.opt.attempts, schema)
	t0 := time.Now()
	eps, err := seed(ctx, store, b.opt.attempts, &r)
	if err != nil {
		r.Skipped = "seed: " + err.Error()
		return r
	}
	r.Seed = time.Since(t0)
	b.progress("scenario d: seeded in %s (%.0f attempts/s incl. deliveries and events)", ms(r.Seed), float64(r.Attempts)/r.Seed.Seconds())

	ops := operations.New(operations.Deps{Store: store})
	c, stopAPI, err := serveListAPI(ops)
	if err != nil {
		r.Skipped = err.Error()
		return r
	}
	defer stopAPI()

	if b.opt.explain {
		b.explain(ctx, store, eps)
	}
	r.Endpoints = eps
	r.Cases = b.measureList(ctx, c, eps)
	if b.opt.pruneShare > 0 {
		b.pruneAndListAgain(ctx, store, c, eps, &r)
	}

	pc, stopUI, err := serveDashboard(ctx, ops)
	if err != nil {
		r.Skipped = err.Error()
		return r
	}
	defer stopUI()
	r.Cases = append(r.Cases, b.measurePages(ctx, pc, eps)...)
	return r
}

// openAndPing opens the database at dsn and checks, within 5s, that it
// answers.
func openAndPing(ctx context.Context, dsn string) (*models.Store, error) {
	s, err := models.Open(dsn)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Ping(pctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// openFreshSchema creates a schema of a random name, opens a store on it and
// migrates it. closeStore closes the store and drops the schema, unless
// -keep-schema; on an error, the schema is dropped already.
func (b *bench) openFreshSchema(ctx context.Context, admin *models.Store, dsn string) (store *models.Store, schema string, closeStore func(), err error) {
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	schema = "hookd_bench_" + hex.EncodeToString(buf)
	if err := admin.DB().WithContext(ctx).Exec("CREATE SCHEMA " + schema).Error; err != nil {
		return nil, "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() { admin.DB().Exec("DROP SCHEMA " + schema + " CASCADE") }
	if b.opt.keepSchema {
		b.progress("scenario d: schema %s is kept (-keep-schema)", schema)
		drop = func() {}
	}
	sdsn, err := withParam(dsn, "search_path", schema)
	if err != nil {
		drop()
		return nil, "", nil, err
	}
	if store, err = models.Open(sdsn); err != nil {
		drop()
		return nil, "", nil, fmt.Errorf("open store: %w", err)
	}
	closeStore = func() {
		_ = store.Close()
		drop()
	}
	if err := store.Migrate(ctx); err != nil {
		closeStore()
		return nil, "", nil, fmt.Errorf("migrate: %w", err)
	}
	return store, schema, closeStore, nil
}

// serveListAPI serves hookd's API over ops on a free loopback port and
// returns a client for it and the function that stops it.
func serveListAPI(ops *operations.Ops) (*apiClient, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	key := "hookd-bench-list-key-0123456789"
	srv := &http.Server{Handler: api.New(api.Deps{Ops: ops, APIKeys: []string{key},
		Logger: slog.New(slog.DiscardHandler)})}
	go func() { _ = srv.Serve(ln) }()
	stop := func() { _ = srv.Close() }
	return newAPIClient("http://"+ln.Addr().String(), key, 4), stop, nil
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
	eps, err := createSeedEndpoints(ctx, s, slots+2)
	if err != nil {
		return nil, err
	}
	db := s.DB().WithContext(ctx)
	if err := execInTx(db, seedStatements(eps, slots, n, base)); err != nil {
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

// createSeedEndpoints creates n endpoints and returns their ids quoted as
// SQL literals.
func createSeedEndpoints(ctx context.Context, s *models.Store, n int) ([]string, error) {
	var eps []string
	now := time.Now().UTC()
	for i := range n {
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
	return eps, nil
}

// seedStatements are the INSERTs of seed: n/slots events from base (Unix
// seconds) on, one per second, n deliveries spread over eps (SQL literals:
// slots big ones, then the medium and the small one) and n attempts.
func seedStatements(eps []string, slots, n int, base int64) []string {
	events := n / slots
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
	return []string{
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
}

// execInTx runs stmts in one transaction; a failed statement rolls it back
// and is quoted in the error.
func execInTx(db *gorm.DB, stmts []string) error {
	tx := db.Begin()
	for _, q := range stmts {
		if err := tx.Exec(q).Error; err != nil {
			tx.Rollback()
			return fmt.Errorf("%w\n%s", err, q)
		}
	}
	return tx.Commit().Error
}

// measureList times the list route -list-rounds times for each case.
func (b *bench) measureList(ctx context.Context, c *apiClient, eps []seeded) []*listCase {
	m := &listMeasure{c: c, cases: map[string]*listCase{}}
	m.round(ctx, eps) // warm-up
	m.record = true
	for range b.opt.listRounds {
		m.round(ctx, eps)
	}
	if m.failed != nil {
		b.progress("scenario d: a list request failed: %v", m.failed)
		b.failed = true
	}
	return m.order
}

// listPage is one answer of GET /v1/deliveries.
type listPage struct {
	Data       []map[string]any `json:"data"`
	NextCursor *string          `json:"next_cursor"`
}

// listMeasure times list requests and pools their latencies per case, in
// the order the cases first came.
type listMeasure struct {
	c      *apiClient
	record bool // false during the warm-up round
	cases  map[string]*listCase
	order  []*listCase
	failed error // the last request that failed
}

// round makes every case's requests once: per endpoint, the first page and
// up to four more by cursor, limit 250 and status=failed; then the first
// page with no filter. A failed page request ends the round.
func (m *listMeasure) round(ctx context.Context, eps []seeded) {
	for _, e := range eps {
		if !m.endpointRound(ctx, e) {
			return
		}
	}
	m.get(ctx, "no filter: first page", url.Values{})
}

// endpointRound makes e's requests once; false if paging failed.
func (m *listMeasure) endpointRound(ctx context.Context, e seeded) bool {
	// First page, then four more by cursor.
	q := url.Values{"endpoint_id": {e.ID}}
	p, ok := m.get(ctx, e.Name+" endpoint: first page (limit 50)", q)
	if !ok {
		return false
	}
	for range 4 {
		if p.NextCursor == nil {
			break
		}
		q.Set("cursor", *p.NextCursor)
		if p, ok = m.get(ctx, e.Name+" endpoint: pages 2–5 by cursor", q); !ok {
			return false
		}
	}
	m.get(ctx, e.Name+" endpoint: limit 250", url.Values{"endpoint_id": {e.ID}, "limit": {"250"}})
	m.get(ctx, e.Name+" endpoint: status=failed (1%)", url.Values{"endpoint_id": {e.ID}, "status": {models.DeliveryFailed}})
	return true
}

// get makes one list request with q and, outside the warm-up, records its
// latency under name; false if it failed.
func (m *listMeasure) get(ctx context.Context, name string, q url.Values) (listPage, bool) {
	var p listPage
	t0 := time.Now()
	err := m.c.call(ctx, http.MethodGet, "/v1/deliveries?"+q.Encode(), nil, &p)
	d := time.Since(t0)
	if err != nil {
		m.failed = err
		return p, false
	}
	if m.record {
		lc := m.cases[name]
		if lc == nil {
			lc = &listCase{Name: name}
			m.cases[name] = lc
			m.order = append(m.order, lc)
		}
		lc.Lat = append(lc.Lat, d)
		lc.Rows = len(p.Data)
	}
	return p, true
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
