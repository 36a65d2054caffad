package ui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"time"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
	"github.com/hookd/hookd/profile"
)

// endpointRow is one line of the endpoint list.
type endpointRow struct {
	models.Endpoint
	Held int64
	// Rate is the success rate of the last 24 h's attempts ("—" without any).
	Rate string
}

// listEndpoints: GET /ui/endpoints?tenant_id=&state=&cursor= — newest first,
// with state, consecutive failures and held deliveries.
func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q := r.URL.Query()
	f := models.EndpointFilter{TenantID: tenantFilter(v, q.Get("tenant_id")), State: q.Get("state"), Limit: pageSize + 1}
	if c := q.Get("cursor"); c != "" && operations.IsID(c, "ep_") {
		f.After = c
	}
	eps, err := s.ops.ListEndpoints(r.Context(), f)
	if err != nil {
		return err
	}
	eps, next := cut(eps, func(e models.Endpoint) string { return e.ID })
	rows, err := s.rows(r.Context(), eps)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "endpoints", v, map[string]any{
		"Title": "Endpoints", "Rows": rows, "Tenant": q.Get("tenant_id"), "State": q.Get("state"),
		"Next": nextLink(r, next)})
	return nil
}

// rows are endpoints with their held counts and success rates over 24 h,
// summarized for the whole page at once.
func (s *Server) rows(ctx context.Context, eps []models.Endpoint) ([]endpointRow, error) {
	ids := make([]string, len(eps))
	for i, ep := range eps {
		ids[i] = ep.ID
	}
	sums, err := s.ops.EndpointSummaries(ctx, ids)
	if err != nil {
		return nil, err
	}
	rows := make([]endpointRow, len(eps))
	for i, ep := range eps {
		sum := sums[ep.ID]
		rows[i] = endpointRow{Endpoint: ep, Held: sum.Held, Rate: "—"}
		if rate, ok := sum.SuccessRate(); ok {
			rows[i].Rate = fmt.Sprintf("%.1f %% of %d", rate*100, sum.Succeeded+sum.Failed)
		}
	}
	return rows, nil
}

// pageSize is how many rows a list page shows.
const pageSize = 50

// cut trims a page fetched with one row too many and answers the cursor of
// the next page ("" on the last).
func cut[T any](rows []T, id func(T) string) ([]T, string) {
	if len(rows) <= pageSize {
		return rows, ""
	}
	rows = rows[:pageSize]
	return rows, id(rows[pageSize-1])
}

// nextLink is the URL of the next page of the list r shows.
func nextLink(r *http.Request, cursor string) string {
	if cursor == "" {
		return ""
	}
	q := r.URL.Query()
	q.Set("cursor", cursor)
	return r.URL.Path + "?" + q.Encode()
}

// newEndpoint: GET /ui/endpoints/new, the form.
func (s *Server) newEndpoint(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.renderEndpointForm(w, r, v, http.StatusOK, endpointForm{Profile: profile.Default, EventTypes: []string{"*"}}, nil)
}

// createEndpoint: POST /ui/endpoints. A refused input shows the
// operation's message beside its field and creates nothing.
func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request, v *viewer) error {
	form := readEndpointForm(r)
	if !v.Operator() {
		form.TenantID = v.Tenant()
	}
	in, err := form.input(true)
	if err == nil {
		var ep *models.Endpoint
		if ep, err = s.ops.CreateEndpoint(r.Context(), in); err == nil {
			http.Redirect(w, r, "/ui/endpoints/"+ep.ID+"?created=1", http.StatusSeeOther)
			return nil
		}
	}
	var oe *operations.Error
	if errors.As(err, &oe) && oe.Kind != operations.NotFound {
		return s.renderEndpointForm(w, r, v, oe.Kind.HTTPStatus(), form, oe)
	}
	return err
}

// editEndpoint: GET /ui/endpoints/{id}/edit, the form filled in.
func (s *Server) editEndpoint(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ep, err := s.endpoint(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.renderEndpointForm(w, r, v, http.StatusOK, formOf(ep), nil)
}

// updateEndpoint: POST /ui/endpoints/{id}, as PATCH /v1/endpoints/{id}.
func (s *Server) updateEndpoint(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ep, err := s.endpoint(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	form := readEndpointForm(r)
	form.ID, form.TenantID = ep.ID, ep.TenantID
	in, err := form.input(false)
	if err == nil {
		if _, err = s.ops.UpdateEndpoint(r.Context(), ep.ID, in); err == nil {
			http.Redirect(w, r, "/ui/endpoints/"+ep.ID, http.StatusSeeOther)
			return nil
		}
	}
	var oe *operations.Error
	if errors.As(err, &oe) && oe.Kind != operations.NotFound {
		return s.renderEndpointForm(w, r, v, oe.Kind.HTTPStatus(), form, oe)
	}
	return err
}

// renderEndpointForm shows the create (or edit) form, with the error of
// the field at fault beside it.
func (s *Server) renderEndpointForm(w http.ResponseWriter, r *http.Request, v *viewer, status int, form endpointForm, problem *operations.Error) error {
	catalog, err := s.ops.ListEventTypes(r.Context(), "", 250)
	if err != nil {
		return err
	}
	s.render(w, r, status, "endpoint_form", v, map[string]any{
		"Title": formTitle(form), "Form": form, "Catalog": catalog, "Profiles": profile.Names(),
		"Errors": fieldErrors(problem)})
	return nil
}

func formTitle(f endpointForm) string {
	if f.ID != "" {
		return "Edit endpoint " + f.ID
	}
	return "New endpoint"
}

// showEndpoint: GET /ui/endpoints/{id}.
func (s *Server) showEndpoint(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ep, err := s.endpoint(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	extra := map[string]any{}
	if r.URL.Query().Get("created") != "" {
		extra["Flash"] = "Endpoint created. Reveal its signing secret below to configure your receiver."
	}
	return s.renderEndpoint(w, r, v, http.StatusOK, ep, extra)
}

// renderEndpoint shows an endpoint with its health, its latest deliveries
// and its actions; extra adds a revealed secret, a message or a form's errors.
func (s *Server) renderEndpoint(w http.ResponseWriter, r *http.Request, v *viewer, status int, ep *models.Endpoint, extra map[string]any) error {
	h, err := s.ops.HealthOf(r.Context(), ep)
	if err != nil {
		return err
	}
	ds, err := s.ops.ListDeliveries(r.Context(), models.DeliveryFilter{EndpointID: ep.ID, Limit: 10})
	if err != nil {
		return err
	}
	window := r.URL.Query().Get("window")
	if _, ok := operations.StatsWindows[window]; !ok {
		window = "24h"
	}
	st, err := s.ops.StatsOf(r.Context(), ep, window)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	data := map[string]any{
		"Window": window, "Stats": st, "Chart": newChart(st), "Errors": map[string]string{},
		"Title": "Endpoint " + ep.ID, "Endpoint": h.Endpoint, "Held": h.Held, "Deliveries": ds,
		"Headers": h.Endpoint.RedactHeaders(h.Endpoint.Headers), "Timeout": models.FormatDuration(h.Endpoint.Timeout()),
		"ReplaySince": now.Add(-time.Hour).Format(time.RFC3339), "ReplayUntil": now.Format(time.RFC3339),
	}
	maps.Copy(data, extra)
	s.render(w, r, status, "endpoint", v, data)
	return nil
}

// revealSecret: POST /ui/endpoints/{id}/secret shows the signing secret
// (a POST, so it is never in a URL, a history entry or a cache).
func (s *Server) revealSecret(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ep, err := s.endpoint(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	secret, err := s.ops.RevealSecret(r.Context(), ep.ID)
	if err != nil {
		return err
	}
	return s.renderEndpoint(w, r, v, http.StatusOK, ep, map[string]any{"Secret": secret})
}

// rotateSecret: POST /ui/endpoints/{id}/rotate-secret {grace_period}: a
// new generated secret, shown at once.
func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ep, err := s.endpoint(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	in := operations.RotateInput{}
	if g := r.PostFormValue("grace_period"); g != "" {
		in.GracePeriod = &g
	}
	rotated, err := s.ops.RotateSecret(r.Context(), ep.ID, in)
	if refused, ok := asInvalid(err); ok {
		return s.renderEndpoint(w, r, v, http.StatusUnprocessableEntity, ep, map[string]any{"Errors": fieldErrors(refused)})
	}
	if err != nil {
		return err
	}
	current, previous := rotated.Keys(time.Now())
	return s.renderEndpoint(w, r, v, http.StatusOK, rotated, map[string]any{
		"Secret": operations.EndpointSecret{EndpointID: rotated.ID, Current: current, Previous: previous},
		"Flash":  "Secret rotated: the new one signs from now on; the old one also signs during the grace period."})
}

// pause: POST /ui/endpoints/{id}/pause {reason}.
func (s *Server) pause(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.endpointAction(w, r, v, func(ctx context.Context, id string) error {
		_, err := s.ops.Pause(ctx, id, r.PostFormValue("reason"))
		return err
	})
}

// unpause: POST /ui/endpoints/{id}/unpause; held deliveries then go out, oldest first.
func (s *Server) unpause(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.endpointAction(w, r, v, func(ctx context.Context, id string) error {
		_, err := s.ops.Unpause(ctx, id)
		return err
	})
}

// enable: POST /ui/endpoints/{id}/enable; an endpoint disabled by a 410
// Gone is active again, and its held deliveries go out, oldest first.
func (s *Server) enable(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.endpointAction(w, r, v, func(ctx context.Context, id string) error {
		_, err := s.ops.Enable(ctx, id)
		return err
	})
}

// endpointAction runs act on the endpoint of the request's path, if the
// viewer may see it, then goes back to the endpoint's page.
func (s *Server) endpointAction(w http.ResponseWriter, r *http.Request, v *viewer, act func(ctx context.Context, id string) error) error {
	ep, err := s.endpoint(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := act(r.Context(), ep.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/endpoints/"+ep.ID, http.StatusSeeOther)
	return nil
}

// sendTest: POST /ui/endpoints/{id}/test {event_type}: an example event to
// this endpoint only; shows its delivery.
func (s *Server) sendTest(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ep, err := s.endpoint(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := s.ops.TestEndpoint(r.Context(), ep.ID, operations.TestInput{EventType: r.PostFormValue("event_type")})
	if refused, ok := asInvalid(err); ok {
		return s.renderEndpoint(w, r, v, http.StatusUnprocessableEntity, ep, map[string]any{"Errors": fieldErrors(refused)})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/deliveries/"+url.PathEscape(d.ID), http.StatusSeeOther)
	return nil
}

// asInvalid is err as an operation's Invalid refusal, shown beside its field.
func asInvalid(err error) (*operations.Error, bool) {
	var oe *operations.Error
	if errors.As(err, &oe) && oe.Kind == operations.Invalid {
		return oe, true
	}
	return nil, false
}

// replay: POST /ui/endpoints/{id}/replay {since, until, only_failed, run}.
// Without run it is a dry run: it counts the deliveries the replay would
// touch and offers to run it with the same window.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ep, err := s.endpoint(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	since, until := r.PostFormValue("since"), r.PostFormValue("until")
	in := operations.ReplayInput{Since: &since, OnlyFailed: r.PostFormValue("only_failed") != "", DryRun: r.PostFormValue("run") == ""}
	if until != "" {
		in.Until = &until
	}
	form := map[string]any{"ReplaySince": since, "ReplayUntil": until, "ReplayOnlyFailed": in.OnlyFailed}
	done, err := s.ops.Replay(r.Context(), ep.ID, in)
	if refused, ok := asInvalid(err); ok {
		form["Errors"] = fieldErrors(refused)
		return s.renderEndpoint(w, r, v, http.StatusUnprocessableEntity, ep, form)
	}
	if err != nil {
		return err
	}
	form["Replayed"] = done
	return s.renderEndpoint(w, r, v, http.StatusOK, ep, form)
}
