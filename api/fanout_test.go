package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

func TestEndpointsPerTenantAreBounded(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		var ids []string
		for range 3 {
			ids = append(ids, a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})["id"].(string))
		}
		status, out := a.do("POST", "/v1/endpoints", map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})
		requireError(t, status, out, http.StatusConflict, "conflict", "tenant_id")
		require.Contains(t, out["error"].(map[string]any)["message"], "HOOKD_MAX_ENDPOINTS_PER_TENANT")
		status, out = a.do("GET", "/v1/endpoints?tenant_id="+tenant, nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Len(t, out["data"], 3, "the refused create wrote nothing")

		a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": models.NewID("tenant")})
		status, _ = a.do("DELETE", "/v1/endpoints/"+ids[0], nil)
		require.Equal(t, http.StatusNoContent, status)
		a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})
	}, func(d *operations.Deps) { d.MaxEndpointsPerTenant = 3 })
}

// Concurrent creates cannot pass the maximum together.
func TestConcurrentCreatesStayWithinTheMaximum(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		var wg sync.WaitGroup
		statuses := make([]int, 12)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i], _ = a.do("POST", "/v1/endpoints", map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})
			}()
		}
		wg.Wait()
		created := 0
		for _, s := range statuses {
			require.Contains(t, []int{http.StatusCreated, http.StatusConflict}, s)
			if s == http.StatusCreated {
				created++
			}
		}
		require.Equal(t, 5, created)
		n, err := a.store.CountEndpoints(context.Background(), tenant)
		require.NoError(t, err)
		require.Equal(t, int64(5), n)
	}, func(d *operations.Deps) { d.MaxEndpointsPerTenant = 5 })
}

// An event is checked once per wire profile, so a refusal names the profile
// and how many of the tenant's endpoints use it, not one endpoint among many.
func TestEventIsCheckedOncePerProfile(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		for range 3 {
			a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant, "profile": "apideck"})
		}
		a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})
		status, out := a.do("POST", "/v1/events", map[string]any{"type": "crm.lead.created", "tenant_id": tenant,
			"payload": map[string]any{}}, "Idempotency-Key", models.NewID("key"))
		requireError(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "payload")
		require.Contains(t, out["error"].(map[string]any)["message"], "3 endpoints with profile apideck cannot carry this event")
	})
}

// gatedTemporal lets the first open starts through and holds every later
// one until release is closed.
type gatedTemporal struct {
	*fakeTemporal
	mu      sync.Mutex
	open    int
	release chan struct{}
}

func (g *gatedTemporal) ExecuteWorkflow(ctx context.Context, o client.StartWorkflowOptions, w any, args ...any) (client.WorkflowRun, error) {
	g.mu.Lock()
	pass := g.open > 0
	g.open--
	g.mu.Unlock()
	if !pass {
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.fakeTemporal.ExecuteWorkflow(ctx, o, w, args...)
}

// A large fan-out answers 202 once the event and its deliveries are
// committed, without waiting for every workflow to start; the rest start in
// the background, and GET /v1/events/{id} pages through all the deliveries.
func TestLargeFanOutIsAcceptedWithoutWaitingForEveryStart(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		gate := &gatedTemporal{fakeTemporal: &fakeTemporal{}, open: operations.InlineStarts, release: make(chan struct{})}
		var once sync.Once
		release := func() { once.Do(func() { close(gate.release) }) }
		t.Cleanup(release)
		a.handler = newHandler(a.store, gate)
		const n = 300
		tenant := models.NewID("tenant")
		ctx := context.Background()
		for i := range n {
			now := time.Now().UTC()
			require.NoError(t, a.store.CreateEndpoint(ctx, &models.Endpoint{ID: models.NewID("ep"), TenantID: tenant,
				URL: fmt.Sprintf("https://example.com/%d", i), EventTypes: []string{"*"}, Profile: "standard", Secret: "whsec_x",
				RetrySchedule: models.DefaultSchedule, TimeoutMS: 1000, PauseThreshold: 10, State: models.EndpointActive,
				CreatedAt: now, UpdatedAt: now}))
		}
		type answer struct {
			status int
			out    map[string]any
		}
		done := make(chan answer, 1)
		go func() {
			status, out := a.do("POST", "/v1/events", map[string]any{"type": "a.b", "tenant_id": tenant, "payload": map[string]any{}},
				"Idempotency-Key", models.NewID("key"))
			done <- answer{status, out}
		}()
		var got answer
		select {
		case got = <-done:
		case <-time.After(20 * time.Second):
			release()
			t.Fatal("POST /v1/events waited for every workflow start")
		}
		require.Equal(t, http.StatusAccepted, got.status, "%v", got.out)
		require.Equal(t, float64(n), got.out["delivery_count"])
		require.Len(t, got.out["deliveries"], maxListedDeliveries, "the answer lists the first deliveries")

		release()
		require.Eventually(t, func() bool { return gate.startedCountOf(tenantDeliveries(t, a, got.out["id"].(string))) == n },
			20*time.Second, 20*time.Millisecond, "every delivery's workflow starts in the background")
	})
}

// startedCountOf is how many of the workflow ids were started.
func (f *fakeTemporal) startedCountOf(ids []string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, id := range ids {
		if f.started[id] > 0 {
			n++
		}
	}
	return n
}

// tenantDeliveries pages GET /v1/events/{id} and returns its deliveries'
// workflow ids, checking each page is within the limit and no id repeats.
func tenantDeliveries(t *testing.T, a *testAPI, eventID string) []string {
	var ids []string
	seen := map[string]bool{}
	path := "/v1/events/" + eventID + "?limit=120"
	for {
		status, out := a.do("GET", path, nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		page := out["deliveries"].([]any)
		require.LessOrEqual(t, len(page), 120)
		for _, d := range page {
			d := d.(map[string]any)
			require.False(t, seen[d["id"].(string)], "a delivery is listed once")
			seen[d["id"].(string)] = true
			ids = append(ids, d["workflow_id"].(string))
		}
		next, ok := out["deliveries_next_cursor"].(string)
		if !ok {
			require.Nil(t, out["deliveries_next_cursor"])
			return ids
		}
		path = "/v1/events/" + eventID + "?limit=120&cursor=" + next
	}
}

func TestGetEventPagesItsDeliveries(t *testing.T) {
	onBothStores(t, func(t *testing.T, a *testAPI) {
		tenant := models.NewID("tenant")
		for range 5 {
			a.createEndpoint(map[string]any{"url": "https://example.com/hook", "tenant_id": tenant})
		}
		status, ev := a.do("POST", "/v1/events", map[string]any{"type": "a.b", "tenant_id": tenant, "payload": map[string]any{}},
			"Idempotency-Key", models.NewID("key"))
		require.Equal(t, http.StatusAccepted, status, "%v", ev)
		id := ev["id"].(string)

		status, first := a.do("GET", "/v1/events/"+id+"?limit=2", nil)
		require.Equal(t, http.StatusOK, status, "%v", first)
		require.Equal(t, id, first["id"])
		require.Len(t, first["deliveries"], 2)
		var all []string
		path := "/v1/events/" + id + "?limit=2"
		for pages := 0; ; pages++ {
			require.Less(t, pages, 3)
			_, out := a.do("GET", path, nil)
			for _, d := range out["deliveries"].([]any) {
				all = append(all, d.(map[string]any)["id"].(string))
			}
			if out["deliveries_next_cursor"] == nil {
				break
			}
			path = "/v1/events/" + id + "?limit=2&cursor=" + out["deliveries_next_cursor"].(string)
		}
		require.ElementsMatch(t, deliveryIDs(ev), all, "the pages hold every delivery once")

		status, out := a.do("GET", "/v1/events/"+id+"?limit=0", nil)
		requireError(t, status, out, http.StatusBadRequest, "validation_failed", "limit")
		status, out = a.do("GET", "/v1/events/"+id+"?cursor=evt_x", nil)
		requireError(t, status, out, http.StatusBadRequest, "validation_failed", "cursor")
	})
}
