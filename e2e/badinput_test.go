package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/hookd/hookd/app"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
	"github.com/hookd/hookd/workflows"
)

// The routes that read or act on one resource by id, each with its success
// path and the bad input it can get: ids that are not the resource's, a
// body on the POST routes that take none, bad query values, the wrong
// method. Every refusal is checked against the one error shape, exactly
// (status, code, field), and the mutating routes are checked to have
// changed nothing.

// requireErrorCode checks the one error shape exactly: status, code, a
// message, and the field (which must be absent when field is "").
func requireErrorCode(t *testing.T, status int, out map[string]any, wantStatus int, code, field string, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, wantStatus, status, "%v %v", out, msgAndArgs)
	require.Len(t, out, 1, "only the error: %v", out)
	e, ok := out["error"].(map[string]any)
	require.True(t, ok, "error shape: %v", out)
	require.Equal(t, code, e["code"], "%v %v", e, msgAndArgs)
	require.NotEmpty(t, e["message"], "%v", e)
	if field == "" {
		require.NotContains(t, e, "field", "%v %v", e, msgAndArgs)
	} else {
		require.Equal(t, field, e["field"], "%v %v", e, msgAndArgs)
	}
}

// requireNotFound: an id that names no resource is 404 not_found, as Stripe
// answers an id it does not know, however malformed the id is.
func requireNotFound(t *testing.T, status int, out map[string]any, what string) {
	t.Helper()
	requireErrorCode(t, status, out, http.StatusNotFound, "not_found", "", what)
	require.Contains(t, out["error"].(map[string]any)["message"], "not found", what)
}

// wrongIDs returns ids that are not id but come close to it, by name:
// another resource's prefix on the same digits, no prefix, the wrong case,
// one character short or too many, far too long, characters no id has (SQL
// quoting, LIKE wildcards, letters outside Crockford's alphabet, bytes that
// are not UTF-8, NUL), and a well-formed id that was never issued. Each must
// answer 404 and find nothing; ids are looked up exactly.
func wrongIDs(id, otherPrefix string) map[string]string {
	prefix, suffix, ok := strings.Cut(id, "_")
	if !ok || len(suffix) != 26 {
		panic("not an id: " + id)
	}
	return map[string]string{
		"well-formed, never issued": models.NewID(prefix),
		"another resource's prefix": otherPrefix + "_" + suffix,
		"no prefix":                 suffix,
		"lower case":                strings.ToLower(id),
		"one character short":       id[:len(id)-1],
		"one character too many":    id + "0",
		"far too long":              id + strings.Repeat("0", 500),
		"SQL quoting":               id + "' OR '1'='1",
		"LIKE wildcards":            prefix + "_%",
		"letters no id has":         prefix + "_" + suffix[:22] + "ILOU",
		"spaces":                    " " + id + " ",
		"not UTF-8":                 id[:len(id)-1] + "\xff",
		"NUL byte":                  id + "\x00",
	}
}

// chunked sends a POST whose body has no declared length (Transfer-Encoding:
// chunked, as streaming clients send), which Go's client would not send for
// a body it can read at once.
func (c *client) chunked(path, body string) (int, map[string]any) {
	c.t.Helper()
	u, err := url.Parse(c.base)
	require.NoError(c.t, err)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	require.NoError(c.t, err)
	defer conn.Close()
	require.NoError(c.t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	req := "POST " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nAuthorization: Bearer " + c.key +
		"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	if body != "" {
		req += fmt.Sprintf("%x\r\n%s\r\n", len(body), body)
	}
	req += "0\r\n\r\n"
	_, err = io.WriteString(conn, req)
	require.NoError(c.t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(c.t, err)
	return c.answer(resp)
}

// refusedBodies are bodies a POST route that takes none must refuse, with
// the status, code and field of the refusal. header is the request's extra
// headers (a Content-Type other than JSON).
var refusedBodies = []struct {
	name   string
	body   string
	header []string
	status int
	code   string
	field  string
}{
	{"an unknown field", `{"reason":"x"}`, nil, 422, "validation_failed", "reason"},
	{"an unknown field among others", `{"force":true,"why":"x"}`, nil, 422, "validation_failed", "force"},
	{"not JSON", `please`, nil, 400, "invalid_json", ""},
	{"truncated JSON", `{"a":`, nil, 400, "invalid_json", ""},
	{"an array", `[]`, nil, 400, "invalid_json", ""},
	{"null", `null`, nil, 400, "invalid_json", ""},
	{"a string", `"{}"`, nil, 400, "invalid_json", ""},
	{"two objects", `{}{}`, nil, 400, "invalid_json", ""},
	{"another content type", `{}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
	{"form data", `a=b`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
	{"over the body limit", `{"x":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413, "payload_too_large", ""},
}

// sendRefusedBodies posts each refused body to path and checks the refusal.
func sendRefusedBodies(t *testing.T, c *client, path string) {
	t.Helper()
	for _, b := range refusedBodies {
		status, out := c.do("POST", path, b.body, b.header...)
		requireErrorCode(t, status, out, b.status, b.code, b.field, b.name)
	}
}

// requireMethodNotAllowed: each method is one the path does not answer: 405 in the error shape.
func requireMethodNotAllowed(t *testing.T, c *client, path string, methods ...string) {
	t.Helper()
	for _, m := range methods {
		status, out := c.do(m, path, nil)
		requireErrorCode(t, status, out, http.StatusMethodNotAllowed, "method_not_allowed", "", m+" "+path)
	}
}

func TestBadInputEndpointReadsFindOnlyTheirOwnID(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		tenant := models.NewID("tenant")
		id, secret := c.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/read", "tenant_id": tenant, "description": "read me"})

		status, ep := c.do("GET", "/v1/endpoints/"+id, nil)
		require.Equal(t, http.StatusOK, status, "%v", ep)
		require.Equal(t, id, ep["id"])
		require.Equal(t, tenant, ep["tenant_id"])
		require.Equal(t, "http://127.0.0.1:9/read", ep["url"])
		require.Equal(t, "read me", ep["description"])
		require.NotContains(t, ep, "secret", "only /secret shows the secret")

		status, sec := c.do("GET", "/v1/endpoints/"+id+"/secret", nil)
		require.Equal(t, http.StatusOK, status, "%v", sec)
		require.Equal(t, map[string]any{"endpoint_id": id, "secret": secret, "previous_secrets": []any{}}, sec)

		status, health := c.do("GET", "/v1/endpoints/"+id+"/health", nil)
		require.Equal(t, http.StatusOK, status, "%v", health)
		require.Equal(t, id, health["endpoint_id"])
		require.Equal(t, models.EndpointActive, health["state"])
		require.Equal(t, float64(0), health["held_count"])
		require.Equal(t, float64(0), health["consecutive_failures"])
		require.Nil(t, health["paused_at"])

		for name, wrong := range wrongIDs(id, "evt") {
			for _, sub := range []string{"", "/secret", "/health"} {
				path := "/v1/endpoints/" + url.PathEscape(wrong) + sub
				status, out := c.do("GET", path, nil)
				requireNotFound(t, status, out, "GET "+sub+" with "+name)
				require.NotContains(t, fmt.Sprint(out), secret, "a refusal shows no secret")
			}
		}
		requireMethodNotAllowed(t, c, "/v1/endpoints/"+id, "PUT", "POST")
		requireMethodNotAllowed(t, c, "/v1/endpoints/"+id+"/secret", "PUT", "DELETE", "POST")
		requireMethodNotAllowed(t, c, "/v1/endpoints/"+id+"/health", "PUT", "DELETE", "POST")

		// Unchanged by all of it.
		_, again := c.do("GET", "/v1/endpoints/"+id, nil)
		require.Equal(t, ep, again)
	})
}

func TestBadInputDeleteEndpointDeletesOnlyItsOwnID(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, h *app.App) {
		rcv := newReceiver(t, always(500))
		tenant := models.NewID("tenant")
		id, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{"1h"}})
		ev := c.postEvent("bad-delete-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
		dlv := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
		waitFor(t, 10*time.Second, "first attempt", func() bool { return len(rcv.requests()) == 1 })
		waitFor(t, 10*time.Second, "the delivery to wait for its retry", func() bool {
			_, d := c.do("GET", "/v1/deliveries/"+dlv, nil)
			return d["status"] == models.DeliveryPending && len(d["attempts"].([]any)) == 1
		})
		_, before := c.do("GET", "/v1/endpoints/"+id, nil)
		_, dBefore := c.do("GET", "/v1/deliveries/"+dlv, nil)
		running := func() bool {
			desc, err := h.Temporal.DescribeWorkflowExecution(context.Background(), workflows.DeliveryWorkflowID(id, ev["id"].(string)), "")
			require.NoError(t, err)
			return desc.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		}
		require.True(t, running(), "the delivery workflow waits for its retry")

		for name, wrong := range wrongIDs(id, "dlv") {
			status, out := c.do("DELETE", "/v1/endpoints/"+url.PathEscape(wrong), nil)
			requireNotFound(t, status, out, "DELETE with "+name)
		}
		requireMethodNotAllowed(t, c, "/v1/endpoints/"+id, "PUT", "POST")
		// Nothing was deleted, cancelled or stopped.
		status, after := c.do("GET", "/v1/endpoints/"+id, nil)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, before, after)
		_, dAfter := c.do("GET", "/v1/deliveries/"+dlv, nil)
		require.Equal(t, dBefore, dAfter, "the pending delivery is untouched")
		require.True(t, running(), "the delivery workflow still runs")

		status, out := c.do("DELETE", "/v1/endpoints/"+id, nil)
		require.Equal(t, http.StatusNoContent, status, "%v", out)
		require.Nil(t, out, "204 has no body")
		status, out = c.do("GET", "/v1/endpoints/"+id, nil)
		requireNotFound(t, status, out, "GET after delete")
		_, d := c.do("GET", "/v1/deliveries/"+dlv, nil)
		require.Equal(t, models.DeliveryCancelled, d["status"])
		waitFor(t, 10*time.Second, "the delivery workflow to stop", func() bool { return !running() })
		status, out = c.do("DELETE", "/v1/endpoints/"+id, nil)
		requireNotFound(t, status, out, "DELETE twice")
	})
}

func TestBadInputUnpauseRefusesABodyAndChangesNothing(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		tenant := models.NewID("tenant")
		id, _ := c.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/", "tenant_id": tenant})
		path := "/v1/endpoints/" + id + "/unpause"
		pause := func() map[string]any {
			t.Helper()
			status, out := c.do("POST", "/v1/endpoints/"+id+"/pause", map[string]any{"reason": "bad input test"})
			require.Equal(t, http.StatusOK, status, "%v", out)
			require.Equal(t, models.EndpointPaused, out["state"])
			return out
		}
		requireActive := func(status int, out map[string]any, what string) {
			t.Helper()
			require.Equal(t, http.StatusOK, status, "%s: %v", what, out)
			require.Equal(t, id, out["endpoint_id"], what)
			require.Equal(t, models.EndpointActive, out["state"], what)
			require.Nil(t, out["paused_at"], what)
		}

		paused := pause()
		sendRefusedBodies(t, c, path)
		status, out := c.chunked(path, `{"reason":"x"}`)
		requireErrorCode(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "reason", "chunked body")
		for name, wrong := range wrongIDs(id, "evt") {
			status, out := c.do("POST", "/v1/endpoints/"+url.PathEscape(wrong)+"/unpause", nil)
			requireNotFound(t, status, out, "unpause with "+name)
		}
		requireMethodNotAllowed(t, c, path, "GET", "PUT", "DELETE")
		_, health := c.do("GET", "/v1/endpoints/"+id+"/health", nil)
		require.Equal(t, paused, health, "no refused unpause changed anything: still paused, same reason and time")

		// What a client without a body sends, in all its forms, is accepted.
		status, out = c.do("POST", path, `{}`)
		requireActive(status, out, "{}")
		pause()
		status, out = c.do("POST", path, nil)
		requireActive(status, out, "no body")
		pause()
		status, out = c.do("POST", path, ` { } `+"\n")
		requireActive(status, out, "{} with white space")
		pause()
		status, out = c.chunked(path, "")
		requireActive(status, out, "an empty chunked body")
		pause()
		status, out = c.chunked(path, "{}")
		requireActive(status, out, "{} chunked")
	})
}

func TestBadInputRetryRefusesABodyAPausedEndpointAndOtherIDs(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		rcv, healthy := switchableReceiver(t)
		tenant := models.NewID("tenant")
		epID, _ := c.createEndpoint(map[string]any{"url": rcv.URL, "tenant_id": tenant, "retry_schedule": []string{}})
		ev := c.postEvent("bad-retry-"+tenant, map[string]any{"type": "a", "tenant_id": tenant, "payload": map[string]any{}})
		dlv := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
		path := "/v1/deliveries/" + dlv + "/retry"
		waitFor(t, 10*time.Second, "the delivery to fail", func() bool {
			_, d := c.do("GET", "/v1/deliveries/"+dlv, nil)
			return d["status"] == models.DeliveryFailed
		})
		_, before := c.do("GET", "/v1/deliveries/"+dlv, nil)
		require.Len(t, before["attempts"], 1)
		unchanged := func(what string) {
			t.Helper()
			time.Sleep(200 * time.Millisecond) // time for an attempt, were one started
			_, now := c.do("GET", "/v1/deliveries/"+dlv, nil)
			require.Equal(t, before, now, "%s: the delivery is unchanged", what)
			require.Len(t, rcv.requests(), 1, "%s: no attempt was made", what)
		}

		healthy.Store(true) // a retry that got through would succeed
		sendRefusedBodies(t, c, path)
		for name, wrong := range wrongIDs(dlv, "evt") {
			status, out := c.do("POST", "/v1/deliveries/"+url.PathEscape(wrong)+"/retry", nil)
			requireNotFound(t, status, out, "retry with "+name)
		}
		requireMethodNotAllowed(t, c, path, "GET", "PUT", "DELETE")
		unchanged("refused retries")

		// While the endpoint is paused: 409, with or without a body.
		status, out := c.do("POST", "/v1/endpoints/"+epID+"/pause", nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		for _, body := range []any{nil, `{}`} {
			status, out := c.do("POST", path, body)
			requireErrorCode(t, status, out, http.StatusConflict, "conflict", "", body)
			require.Contains(t, out["error"].(map[string]any)["message"], "unpause")
		}
		unchanged("retries while paused")
		status, out = c.do("POST", "/v1/endpoints/"+epID+"/unpause", nil)
		require.Equal(t, http.StatusOK, status, "%v", out)

		// Accepted with {} and with no body: one more attempt each, manual.
		for i, body := range []any{`{}`, nil} {
			status, out := c.do("POST", path, body)
			require.Equal(t, http.StatusAccepted, status, "%v", out)
			require.Equal(t, dlv, out["id"])
			want := i + 2
			waitFor(t, 10*time.Second, "the retry", func() bool {
				_, d := c.do("GET", "/v1/deliveries/"+dlv, nil)
				return d["status"] == models.DeliverySucceeded && len(d["attempts"].([]any)) == want
			})
			_, d := c.do("GET", "/v1/deliveries/"+dlv, nil)
			atts := d["attempts"].([]any)
			require.Equal(t, models.TriggerManual, atts[len(atts)-1].(map[string]any)["trigger"])
			require.Len(t, rcv.requests(), want)
		}
	})
}

func TestBadInputEventAndDeliveryReadsFindOnlyTheirOwnID(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		tenant := models.NewID("tenant")
		epID, _ := c.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/", "tenant_id": tenant, "retry_schedule": []string{}})
		ev := c.postEvent("bad-read-"+tenant, map[string]any{"type": "lead.created", "tenant_id": tenant, "payload": map[string]any{"n": 1}})
		evID := ev["id"].(string)
		dlv := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
		waitFor(t, 10*time.Second, "the delivery to fail", func() bool {
			_, d := c.do("GET", "/v1/deliveries/"+dlv, nil)
			return d["status"] == models.DeliveryFailed
		})

		status, got := c.do("GET", "/v1/events/"+evID, nil)
		require.Equal(t, http.StatusOK, status, "%v", got)
		require.Equal(t, evID, got["id"])
		require.Equal(t, "lead.created", got["type"])
		require.Equal(t, tenant, got["tenant_id"])
		require.Equal(t, map[string]any{"n": float64(1)}, got["payload"])
		require.Len(t, got["deliveries"], 1)
		require.Equal(t, dlv, got["deliveries"].([]any)[0].(map[string]any)["id"])

		status, d := c.do("GET", "/v1/deliveries/"+dlv, nil)
		require.Equal(t, http.StatusOK, status, "%v", d)
		require.Equal(t, dlv, d["id"])
		require.Equal(t, evID, d["event_id"])
		require.Equal(t, epID, d["endpoint_id"])
		require.Equal(t, models.DeliveryFailed, d["status"])
		atts := d["attempts"].([]any)
		require.Len(t, atts, 1)
		require.Equal(t, models.TriggerSchedule, atts[0].(map[string]any)["trigger"])

		for name, wrong := range wrongIDs(evID, "dlv") {
			status, out := c.do("GET", "/v1/events/"+url.PathEscape(wrong), nil)
			requireNotFound(t, status, out, "GET event with "+name)
		}
		for name, wrong := range wrongIDs(dlv, "evt") {
			status, out := c.do("GET", "/v1/deliveries/"+url.PathEscape(wrong), nil)
			requireNotFound(t, status, out, "GET delivery with "+name)
		}
		requireMethodNotAllowed(t, c, "/v1/events/"+evID, "PUT", "PATCH", "DELETE", "POST")
		requireMethodNotAllowed(t, c, "/v1/deliveries/"+dlv, "PUT", "PATCH", "DELETE", "POST")
	})
}

func TestBadInputEventTypeListRefusesBadLimitsAndCursors(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		// Two types of our own, after a name no other test uses.
		base := "badinput_" + strings.ToLower(models.NewID("x"))
		for _, n := range []string{base + ".a", base + ".b"} {
			status, out := c.do("POST", "/v1/event-types", map[string]any{"name": n, "description": "paging"})
			require.Equal(t, http.StatusCreated, status, "%v", out)
		}
		status, out := c.do("GET", "/v1/event-types?limit=1&cursor="+url.QueryEscape(base), nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Len(t, out["data"], 1)
		require.Equal(t, base+".a", out["data"].([]any)[0].(map[string]any)["name"])
		require.Equal(t, base+".a", out["next_cursor"])
		status, out = c.do("GET", "/v1/event-types?limit=1&cursor="+url.QueryEscape(base+".a"), nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Equal(t, base+".b", out["data"].([]any)[0].(map[string]any)["name"])
		status, out = c.do("GET", "/v1/event-types", nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.NotEmpty(t, out["data"])

		for q, field := range map[string]string{
			"limit=0": "limit", "limit=251": "limit", "limit=-1": "limit", "limit=abc": "limit", "limit=1.5": "limit", "limit=": "",
			"cursor=" + url.QueryEscape("bad name"): "cursor", "cursor=.a": "cursor", "cursor=a..b": "cursor",
			"cursor=" + url.QueryEscape(base+".*"): "cursor", "cursor=" + url.QueryEscape("a\x00b"): "cursor",
		} {
			status, out := c.do("GET", "/v1/event-types?"+q, nil)
			if field == "" { // an empty limit is no limit
				require.Equal(t, http.StatusOK, status, "%s: %v", q, out)
				continue
			}
			requireErrorCode(t, status, out, http.StatusBadRequest, "validation_failed", field, q)
		}
		requireMethodNotAllowed(t, c, "/v1/event-types", "PUT", "PATCH", "DELETE")
	})
}

func TestBadInputPresetRefusesABodyAndUnknownPresetsAndWritesNothing(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, h *app.App) {
		// apideck: a preset no other test loads, so what is written is ours.
		const preset = "apideck"
		var names []string
		for _, p := range profile.Presets()[preset] {
			names = append(names, p.Name)
		}
		require.NotEmpty(t, names)
		loaded := func() int64 {
			var n int64
			require.NoError(t, h.Store.DB().Model(&models.EventType{}).Where("name IN ?", names).Count(&n).Error)
			return n
		}
		before := loaded()
		presetNames := slices.Sorted(maps.Keys(profile.Presets()))
		require.Contains(t, presetNames, preset)

		path := "/v1/event-types/presets/" + preset
		sendRefusedBodies(t, c, path)
		for _, p := range []string{"stripe", "Apideck", "apideck ", "apideck.x", "", strings.Repeat("a", 300), "salesos\x00"} {
			status, out := c.do("POST", "/v1/event-types/presets/"+url.PathEscape(p), nil)
			if p == "" { // the path ends with "/": no such route
				requireErrorCode(t, status, out, http.StatusNotFound, "not_found", "", "no preset name")
				continue
			}
			requireErrorCode(t, status, out, http.StatusNotFound, "not_found", "profile", p)
			require.Contains(t, out["error"].(map[string]any)["message"], strings.Join(presetNames, ", "), "the message lists the presets")
		}
		requireMethodNotAllowed(t, c, path, "GET", "PUT", "DELETE")
		require.Equal(t, before, loaded(), "no refused request added an event type")

		status, out := c.do("POST", path, `{}`)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Equal(t, map[string]any{"preset": preset, "event_types": float64(len(names)), "added": float64(int64(len(names)) - before)}, out)
		require.Equal(t, int64(len(names)), loaded())
		status, out = c.do("POST", path, nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Equal(t, float64(0), out["added"], "loading it again adds nothing")
	})
}

func TestBadInputNULInATextFieldIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, c *client, _ *app.App) {
		tenant := models.NewID("tenant")
		status, out := c.do("POST", "/v1/endpoints",
			`{"url":"https://example.com/nul","tenant_id":"`+tenant+`","description":"a\u0000b"}`)
		requireErrorCode(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "description")
		status, out = c.do("POST", "/v1/endpoints",
			`{"url":"https://example.com/nul","tenant_id":"`+tenant+`","headers":{"X-Team":"a\u0000"}}`)
		requireErrorCode(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "headers.X-Team")
		status, out = c.do("GET", "/v1/endpoints?tenant_id="+tenant, nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Empty(t, out["data"], "a refused create wrote nothing")

		id, _ := c.createEndpoint(map[string]any{"url": "https://example.com/nul", "tenant_id": tenant})
		status, out = c.do("PATCH", "/v1/endpoints/"+id, `{"description":"\u0000"}`)
		requireErrorCode(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "description")
		status, out = c.do("POST", "/v1/endpoints/"+id+"/pause", `{"reason":"disk\u0000full"}`)
		requireErrorCode(t, status, out, http.StatusUnprocessableEntity, "validation_failed", "reason")
		status, out = c.do("GET", "/v1/endpoints/"+id+"/health", nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Equal(t, models.EndpointActive, out["state"], "a refused pause pauses nothing")
		status, out = c.do("GET", "/v1/endpoints/"+id, nil)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Empty(t, out["description"], "a refused patch changed nothing")

		// A payload is JSON kept as written: an escaped NUL in it is fine.
		status, out = c.do("POST", "/v1/events", `{"type":"nul.test","tenant_id":"`+tenant+`","payload":{"s":"a\u0000b"}}`,
			"Idempotency-Key", models.NewID("key"))
		require.Equal(t, http.StatusAccepted, status, "%v", out)
	})
}
