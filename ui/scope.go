package ui

import (
	"context"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

// The one place where a portal session's tenant bounds what it reaches:
// every handler loads endpoints and deliveries through these, and lists
// through a filter these fill in. A resource of another tenant answers
// exactly what an unknown id answers (operations' NotFound: 404), so a
// portal cannot even tell that it exists.

// endpoint loads an endpoint the viewer may see.
func (s *Server) endpoint(ctx context.Context, v *viewer, id string) (*models.Endpoint, error) {
	ep, err := s.ops.GetEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if !v.Operator() && ep.TenantID != v.Tenant() {
		return nil, notFound("endpoint", id)
	}
	return ep, nil
}

// delivery loads a delivery the viewer may see, its attempts and its event.
func (s *Server) delivery(ctx context.Context, v *viewer, id string) (*models.Delivery, []models.Attempt, *models.Event, error) {
	d, atts, err := s.ops.GetDelivery(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	ev, err := s.ops.Event(ctx, d.EventID)
	if err != nil {
		return nil, nil, nil, err
	}
	if !v.Operator() && ev.TenantID != v.Tenant() {
		return nil, nil, nil, notFound("delivery", id)
	}
	return d, atts, ev, nil
}

// tenantFilter is the tenant a list is bounded to: the portal's own, or
// for an operator the tenant asked for ("" for all).
func tenantFilter(v *viewer, asked string) string {
	if !v.Operator() {
		return v.Tenant()
	}
	return asked
}

// notFound is the answer for an id the viewer may not see: word for word
// the operations' answer for an id that does not exist.
func notFound(what, id string) error {
	return &operations.Error{Kind: operations.NotFound, Message: what + " " + id + " not found"}
}
