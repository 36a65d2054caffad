package ui

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

// A refused input shows the operation's own message (the one the API
// answers) beside its field, and writes nothing.
func TestARefusedInputShowsTheAPIMessageBesideItsField(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		b := e.browser()
		csrf := b.signIn()
		for name, tc := range map[string]struct {
			form  url.Values
			field string
			in    operations.EndpointInput
		}{
			"url":            {url.Values{"url": {"ftp://example.com"}}, "url", operations.EndpointInput{URL: ptr("ftp://example.com")}},
			"event types":    {url.Values{"more_event_types": {"lead.*.x"}}, "event_types", operations.EndpointInput{EventTypes: []string{"lead.*.x"}}},
			"retry schedule": {url.Values{"retry_schedule": {"1m, soon"}}, "retry_schedule", operations.EndpointInput{RetrySchedule: []string{"1m", "soon"}}},
			"headers":        {url.Values{"headers": {"Host: evil"}}, "headers", operations.EndpointInput{Headers: map[string]string{"Host": "evil"}}},
			"threshold":      {url.Values{"pause_threshold": {"0"}}, "pause_threshold", operations.EndpointInput{PauseThreshold: ptr(0)}},
		} {
			form := url.Values{"csrf": {csrf}, "tenant_id": {"acme"}, "url": {"https://example.com/ok"}}
			for k, v := range tc.form {
				form[k] = v
			}
			p := b.post("/ui/endpoints", form)
			require.Equal(t, http.StatusUnprocessableEntity, p.Status, name)
			in := tc.in
			if in.URL == nil {
				in.URL = ptr("https://example.com/ok")
			}
			in.TenantID = ptr("acme")
			_, apiErr := e.ops.CreateEndpoint(e.ctx, in)
			oe, ok := asInvalid(apiErr)
			require.True(t, ok, "%s: %v", name, apiErr)
			shown := regexp.MustCompile(`id="error-` + tc.field + `">([^<]*)<`).FindStringSubmatch(p.Body)
			require.NotNil(t, shown, "%s: an error beside %s:\n%s", name, tc.field, p.Body)
			require.Equal(t, oe.Message, html.UnescapeString(shown[1]), name)
		}
		eps, err := e.ops.ListEndpoints(e.ctx, models.EndpointFilter{})
		require.NoError(t, err)
		require.Empty(t, eps, "nothing refused was created")
	})
}

func TestDeliveryFiltersAreCheckedAsTheAPIChecksThem(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		b := e.browser()
		b.signIn()
		p := b.get("/ui/deliveries?since=yesterday")
		require.Equal(t, http.StatusBadRequest, p.Status)
		contains(t, p.Body, `id="error-since">since: must be an RFC 3339 time`)
		p = b.get("/ui/deliveries?status=lost")
		require.Equal(t, http.StatusBadRequest, p.Status)
		contains(t, p.Body, `id="error-status">status: must be one of pending, held, succeeded, failed, cancelled`)
	})
}

// The endpoints list shows each endpoint's own held deliveries and success
// rate of the last 24 h.
func TestTheEndpointsListShowsEachEndpointsHeldCountAndSuccessRate(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		busy, quiet := e.endpoint("acme"), e.endpoint("acme")
		d := e.delivery(busy, map[string]any{"n": 1})
		require.NoError(t, e.store.DB().Model(&models.Delivery{}).Where("id = ?", d.ID).Update("status", models.DeliveryHeld).Error)
		for n, ok := range []bool{true, true, true, false} {
			require.NoError(t, e.store.DB().Create(&models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: n + 1,
				Trigger: models.TriggerSchedule, URL: busy.URL, Succeeded: ok, StartedAt: time.Now().UTC()}).Error)
		}
		b := e.browser()
		b.signIn()
		p := b.get("/ui/endpoints")
		require.Equal(t, http.StatusOK, p.Status)
		row := func(id string) string {
			m := regexp.MustCompile(`(?s)<tr>\s*<td><a href="/ui/endpoints/` + id + `">.*?</tr>`).FindString(p.Body)
			require.NotEmpty(t, m, "a row for %s:\n%s", id, p.Body)
			return m
		}
		contains(t, row(busy.ID), `<td class="num">1</td>`, `<td class="num">75.0 % of 4</td>`)
		contains(t, row(quiet.ID), `<td class="num">0</td>`, `<td class="num">—</td>`)
	})
}

// Payloads, headers and response excerpts are shown as text: a <script>
// in them is never markup.
func TestPayloadsAreRenderedInert(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint("acme")
		d := e.delivery(ep, map[string]any{"name": "<script>alert(1)</script>"})
		_, err := e.store.RecordAttempt(e.ctx, ep.ID, &models.Attempt{ID: models.NewID("att"), DeliveryID: d.ID, Number: 1,
			Trigger: models.TriggerSchedule, URL: ep.URL, RequestHeaders: map[string]string{"X-Evil": "<img src=x onerror=alert(2)>"},
			StatusCode: 500, ResponseBody: []byte("<script>alert(3)</script>"), StartedAt: d.CreatedAt},
			models.AttemptOutcome{Status: models.DeliveryFailed})
		require.NoError(t, err)
		b := e.browser()
		b.signIn()
		p := b.get("/ui/deliveries/" + d.ID)
		require.Equal(t, http.StatusOK, p.Status)
		require.NotContains(t, p.Body, "<script>alert")
		require.NotContains(t, p.Body, "<img src=x")
		contains(t, p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(3)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;")
		contains(t, p.Body, `id="temporal-link"`, "WorkflowId")
	})
}

func TestEndpointActionsGoThroughTheOperations(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		b := e.browser()
		csrf := b.signIn()
		p := b.post("/ui/endpoints", url.Values{"csrf": {csrf}, "tenant_id": {"acme"}, "url": {"https://example.com/new"},
			"event_types": {"lead.created"}, "more_event_types": {"deal.*"}, "headers": {"X-Team: crm"}, "retry_schedule": {"10s, 1m"}})
		require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
		eps, err := e.ops.ListEndpoints(e.ctx, models.EndpointFilter{TenantID: "acme"})
		require.NoError(t, err)
		require.Len(t, eps, 1)
		ep := eps[0]
		require.Equal(t, []string{"lead.created", "deal.*"}, ep.EventTypes)
		require.Equal(t, map[string]string{"X-Team": "crm"}, ep.Headers)

		show := b.get("/ui/endpoints/" + ep.ID)
		require.NotContains(t, show.Body, ep.Secret, "the secret shows only on request")
		contains(t, b.post("/ui/endpoints/"+ep.ID+"/secret", url.Values{"csrf": {csrf}}).Body, ep.Secret)
		rotated := b.post("/ui/endpoints/"+ep.ID+"/rotate-secret", url.Values{"csrf": {csrf}, "grace_period": {"1h"}})
		got, err := e.ops.GetEndpoint(e.ctx, ep.ID)
		require.NoError(t, err)
		require.NotEqual(t, ep.Secret, got.Secret)
		contains(t, rotated.Body, got.Secret)
		bad := b.post("/ui/endpoints/"+ep.ID+"/rotate-secret", url.Values{"csrf": {csrf}, "grace_period": {"9999h"}})
		require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
		contains(t, bad.Body, `id="error-grace_period">grace_period: must be a duration`)

		require.Equal(t, http.StatusSeeOther, b.post("/ui/endpoints/"+ep.ID+"/pause", url.Values{"csrf": {csrf}}).Status)
		contains(t, b.get("/ui/endpoints/"+ep.ID).Body, `state-paused`)
		require.Equal(t, http.StatusSeeOther, b.post("/ui/endpoints/"+ep.ID+"/unpause", url.Values{"csrf": {csrf}}).Status)
		contains(t, b.get("/ui/endpoints/"+ep.ID).Body, `state-active`)
		_, err = e.store.DisableEndpoint(e.ctx, ep.ID, "the receiver answered 410 Gone", time.Now())
		require.NoError(t, err)
		disabled := b.get("/ui/endpoints/" + ep.ID).Body
		contains(t, disabled, `state-disabled`)
		contains(t, disabled, `the receiver answered 410 Gone`)
		require.Equal(t, http.StatusSeeOther, b.post("/ui/endpoints/"+ep.ID+"/enable", url.Values{"csrf": {csrf}}).Status)
		contains(t, b.get("/ui/endpoints/"+ep.ID).Body, `state-active`)

		sent := b.post("/ui/endpoints/"+ep.ID+"/test", url.Values{"csrf": {csrf}, "event_type": {"lead.created"}})
		require.Equal(t, http.StatusSeeOther, sent.Status, sent.Body)
		ds, err := e.ops.ListDeliveries(e.ctx, models.DeliveryFilter{EndpointID: ep.ID})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		require.Equal(t, "/ui/deliveries/"+ds[0].ID, sent.Header.Get("Location"))

		edited := b.post("/ui/endpoints/"+ep.ID, url.Values{"csrf": {csrf}, "url": {"https://example.com/edited"},
			"description": {"edited"}, "event_types": {"*"}, "headers": {""}})
		require.Equal(t, http.StatusSeeOther, edited.Status, edited.Body)
		got, err = e.ops.GetEndpoint(e.ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, "https://example.com/edited", got.URL)
		require.Equal(t, []string{"*"}, got.EventTypes)
		require.Empty(t, got.Headers)
		require.Equal(t, ep.RetrySchedule, got.RetrySchedule, "a blank schedule is left as it is")
	})
}

func TestRetryOfAFinishedDeliveryStartsANewRun(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		ep := e.endpoint("acme")
		d := e.delivery(ep, nil)
		require.NoError(t, e.store.DB().Model(&models.Delivery{}).Where("id = ?", d.ID).Update("status", models.DeliveryFailed).Error)
		b := e.browser()
		csrf := b.signIn()
		p := b.post("/ui/deliveries/"+d.ID+"/retry", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
		require.Equal(t, []string{d.ID}, e.engine.redelivered())
	})
}

// The traceparent opt-in is a checkbox: checked on create sets it, the edit
// form shows it checked, and saving the form unchecked turns it off.
func TestTheTraceparentOptInIsACheckbox(t *testing.T) {
	onBothStores(t, func(t *testing.T, e *env) {
		b := e.browser()
		csrf := b.signIn()
		p := b.post("/ui/endpoints", url.Values{"csrf": {csrf}, "tenant_id": {"acme"}, "url": {"https://example.com/traced"},
			"send_traceparent": {"true"}})
		require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
		eps, err := e.ops.ListEndpoints(e.ctx, models.EndpointFilter{TenantID: "acme"})
		require.NoError(t, err)
		require.Len(t, eps, 1)
		require.True(t, eps[0].SendTraceparent)
		contains(t, b.get("/ui/endpoints/"+eps[0].ID+"/edit").Body, `name="send_traceparent" value="true" checked`)
		contains(t, b.get("/ui/endpoints/"+eps[0].ID).Body, `id="send-traceparent">each attempt sends its <code>traceparent</code>`)

		edited := b.post("/ui/endpoints/"+eps[0].ID, url.Values{"csrf": {csrf}, "url": {"https://example.com/traced"}, "event_types": {"*"}})
		require.Equal(t, http.StatusSeeOther, edited.Status, edited.Body)
		got, err := e.ops.GetEndpoint(e.ctx, eps[0].ID)
		require.NoError(t, err)
		require.False(t, got.SendTraceparent, "unchecked: off")
	})
}
