package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
	"github.com/hookd/hookd/workflows"
)

// listDeliveries: GET /ui/deliveries?endpoint_id=&status=&event_type=&since=&until=&tenant_id=&cursor=
// The filters are read by operations.DeliveryQuery, as GET /v1/deliveries
// reads them; a refused one is shown beside its field.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q := r.URL.Query()
	data := map[string]any{"Title": "Deliveries", "Query": q, "Statuses": operations.DeliveryStatuses, "Errors": map[string]string{}}
	f, err := operations.DeliveryQuery{
		EndpointID: q.Get("endpoint_id"), Status: q.Get("status"), EventType: q.Get("event_type"),
		TenantID: tenantFilter(v, q.Get("tenant_id")), Since: q.Get("since"), Until: q.Get("until"), Cursor: q.Get("cursor"),
	}.Filter()
	if refused, ok := asInvalid(err); ok {
		data["Errors"] = fieldErrors(refused)
		s.render(w, r, http.StatusBadRequest, "deliveries", v, data)
		return nil
	}
	if err != nil {
		return err
	}
	if f.EndpointID != "" {
		if _, err := s.endpoint(r.Context(), v, f.EndpointID); err != nil {
			return err
		}
	}
	f.Limit = pageSize + 1
	ds, err := s.ops.ListDeliveries(r.Context(), f)
	if err != nil {
		return err
	}
	ds, next := cut(ds, func(d models.Delivery) string { return d.ID })
	data["Deliveries"], data["Next"] = ds, nextLink(r, next)
	s.render(w, r, http.StatusOK, "deliveries", v, data)
	return nil
}

// attemptView is an attempt as the page shows it: the response excerpt as
// text (invalid UTF-8 replaced), rendered inert by the template.
type attemptView struct {
	models.Attempt
	Excerpt string
}

// showDelivery: GET /ui/deliveries/{id}, with its event and every attempt.
func (s *Server) showDelivery(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.renderDelivery(w, r, v, http.StatusOK, r.PathValue("id"), "")
}

func (s *Server) renderDelivery(w http.ResponseWriter, r *http.Request, v *viewer, status int, id, problem string) error {
	d, atts, ev, err := s.delivery(r.Context(), v, id)
	if err != nil {
		return err
	}
	views := make([]attemptView, len(atts))
	for i, a := range atts {
		views[i] = attemptView{Attempt: a, Excerpt: strings.ToValidUTF8(string(a.Body()), "\uFFFD")}
	}
	wid := workflows.DeliveryWorkflowID(d.EndpointID, d.EventID)
	s.render(w, r, status, "delivery", v, map[string]any{
		"Title": "Delivery " + d.ID, "Delivery": d, "Attempts": views, "Event": ev,
		"WorkflowID": wid, "TemporalURL": s.workflowURL(wid), "Problem": problem})
	return nil
}

// workflowURL links a workflow in the Temporal UI ("" without one).
func (s *Server) workflowURL(workflowID string) string {
	if s.temporalUI == "" {
		return ""
	}
	q := url.Values{"query": {`WorkflowId="` + workflowID + `"`}}
	return s.temporalUI + "/namespaces/" + url.PathEscape(s.namespace) + "/workflows?" + q.Encode()
}

// retry: POST /ui/deliveries/{id}/retry, one more attempt now.
func (s *Server) retry(w http.ResponseWriter, r *http.Request, v *viewer) error {
	d, _, _, err := s.delivery(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := s.ops.RetryDelivery(r.Context(), d.ID); err != nil {
		var oe *operations.Error
		if errors.As(err, &oe) && oe.Kind == operations.Conflict { // the endpoint is paused
			return s.renderDelivery(w, r, v, http.StatusConflict, d.ID, oe.Message)
		}
		return err
	}
	http.Redirect(w, r, "/ui/deliveries/"+url.PathEscape(d.ID)+"?retried=1", http.StatusSeeOther)
	return nil
}
