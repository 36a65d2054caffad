package operations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
	"github.com/hookd/hookd/workflows"
)

// EndpointStore is what the endpoint operations need of the store.
type EndpointStore interface {
	CreateEndpointWithin(ctx context.Context, e *models.Endpoint, limit int) error
	CreateSoleEndpoint(ctx context.Context, e *models.Endpoint) error
	GetEndpoint(ctx context.Context, id string) (*models.Endpoint, error)
	ListEndpoints(ctx context.Context, f models.EndpointFilter) ([]models.Endpoint, error)
	UpdateEndpoint(ctx context.Context, e *models.Endpoint, columns ...string) (*models.Endpoint, error)
	DeleteEndpoint(ctx context.Context, id string) ([]models.Delivery, error)
	RotateSecret(ctx context.Context, id, next string, grace time.Duration, now time.Time) (*models.Endpoint, error)
}

// newEndpoint is an endpoint with every default, made now.
func (o *Ops) newEndpoint() *models.Endpoint {
	now := o.now().UTC()
	return &models.Endpoint{
		ID:             models.NewID("ep"),
		EventTypes:     []string{"*"},
		Profile:        profile.Default,
		RetrySchedule:  append(models.Schedule(nil), models.DefaultSchedule...),
		TimeoutMS:      models.DefaultTimeout.Milliseconds(),
		PauseThreshold: models.DefaultPauseThreshold,
		State:          models.EndpointActive,
		Headers:        map[string]string{},
		SecretHeaders:  []string{},
		CreatedAt:      now,
		UpdatedAt:      now,
	}
}

// CreateEndpoint creates an endpoint (url and tenant_id required; the rest
// defaults) and starts its health workflow. Without a secret given, the
// profile makes one. The returned endpoint holds the secret.
func (o *Ops) CreateEndpoint(ctx context.Context, in EndpointInput) (*models.Endpoint, error) {
	e := o.newEndpoint()
	if in.URL == nil {
		return nil, invalid("url", "is required")
	}
	if in.TenantID == nil {
		return nil, invalid("tenant_id", "is required")
	}
	if _, err := applyEndpointInput(e, &in); err != nil {
		return nil, err
	}
	if in.Secret == nil {
		p, _ := profile.Lookup(e.Profile)
		secret, err := p.NewSecret()
		if err != nil {
			return nil, err
		}
		e.Secret = secret
	}
	if err := o.storeNewEndpoint(ctx, e); err != nil {
		return nil, err
	}
	o.startHealth(ctx, e)
	o.log.Info("endpoint.created", "endpoint_id", e.ID, "tenant_id", e.TenantID, "profile", e.Profile)
	return e, nil
}

// startHealth starts a new endpoint's health workflow. If this fails it is
// started on first need (signal-with-start), so the endpoint is usable
// either way.
func (o *Ops) startHealth(ctx context.Context, e *models.Endpoint) {
	if err := o.engine.StartEndpoint(ctx, e); err != nil {
		o.log.Warn("endpoint.workflow_start_failed", "endpoint_id", e.ID, "error", err)
	}
}

// storeNewEndpoint writes a new endpoint, within the tenant's maximum
// (HOOKD_MAX_ENDPOINTS_PER_TENANT: a Conflict past it). With
// HOOKD_ONE_ENDPOINT_PER_TENANT it goes through the store's one-per-tenant
// create (the Vessel webhooks' mechanism: a mark keyed by tenant, written in
// the endpoint's transaction), so of concurrent creates for one tenant
// exactly one wins; the others, and any create for a tenant that has an
// endpoint, are a Conflict.
func (o *Ops) storeNewEndpoint(ctx context.Context, e *models.Endpoint) error {
	if !o.oneEndpointPerTenant {
		err := o.store.CreateEndpointWithin(ctx, e, o.maxEndpointsPerTenant)
		if errors.Is(err, models.ErrTooManyEndpoints) {
			return &Error{Kind: Conflict, Field: "tenant_id",
				Message: fmt.Sprintf("tenant %s has %d endpoints, the most HOOKD_MAX_ENDPOINTS_PER_TENANT allows; delete one first",
					e.TenantID, o.maxEndpointsPerTenant)}
		}
		return err
	}
	err := o.store.CreateSoleEndpoint(ctx, e)
	if errors.Is(err, models.ErrTenantHasEndpoint) {
		return o.tenantHasEndpoint(ctx, e.TenantID, "tenant_id")
	}
	return err
}

// tenantHasEndpoint is the Conflict of a second endpoint for a tenant under
// HOOKD_ONE_ENDPOINT_PER_TENANT, naming the endpoint it has when it can.
func (o *Ops) tenantHasEndpoint(ctx context.Context, tenant, field string) error {
	msg := "tenant " + tenant + " already has an endpoint (HOOKD_ONE_ENDPOINT_PER_TENANT allows one per tenant); delete it first"
	if eps, err := o.store.ListEndpoints(ctx, models.EndpointFilter{TenantID: tenant, Limit: 1}); err == nil && len(eps) == 1 {
		msg = "tenant " + tenant + " already has the endpoint " + eps[0].ID + " (HOOKD_ONE_ENDPOINT_PER_TENANT allows one per tenant); delete it first"
	}
	return &Error{Kind: Conflict, Field: field, Message: msg}
}

// GetEndpoint loads an endpoint; NotFound if there is none.
func (o *Ops) GetEndpoint(ctx context.Context, id string) (*models.Endpoint, error) {
	ep, err := o.store.GetEndpoint(ctx, id)
	if err != nil {
		return nil, storeError(err, "endpoint", id)
	}
	return ep, nil
}

// ListEndpoints lists endpoints newest first, as the filter selects.
func (o *Ops) ListEndpoints(ctx context.Context, f models.EndpointFilter) ([]models.Endpoint, error) {
	return o.store.ListEndpoints(ctx, f)
}

// UpdateEndpoint changes only the fields given, and writes only those.
// tenant_id cannot change (it would move the endpoint's history). A
// pause_threshold given is passed on to the endpoint's health workflow.
func (o *Ops) UpdateEndpoint(ctx context.Context, id string, in EndpointInput) (*models.Endpoint, error) {
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.TenantID != nil && *in.TenantID != ep.TenantID {
		return nil, invalid("tenant_id", "cannot be changed; create an endpoint for the other tenant")
	}
	if err := checkProfileChange(ep, &in); err != nil {
		return nil, err
	}
	columns, err := applyEndpointInput(ep, &in)
	if err != nil {
		return nil, err
	}
	if ep, err = o.store.UpdateEndpoint(ctx, ep, columns...); err != nil {
		return nil, storeError(err, "endpoint", id)
	}
	if in.PauseThreshold != nil {
		// The health workflow reads its threshold again from the store, so
		// its health query agrees and the new threshold counts at once. Sent
		// whenever the field is given, so retrying an update whose signal
		// failed sends it again.
		if err := o.engine.SignalEndpoint(ctx, ep, workflows.SignalSettings, nil); err != nil {
			return nil, err
		}
		if ep.State == models.EndpointActive && ep.ConsecutiveFailures >= *in.PauseThreshold {
			return o.awaitPauseBy(ctx, ep)
		}
	}
	return ep, nil
}

// awaitPauseBy waits (AwaitTimeout at most) for the pause that a threshold
// lowered to the current count makes, so the answer shows the state the
// change leads to; after the wait it answers the endpoint as stored.
func (o *Ops) awaitPauseBy(ctx context.Context, ep *models.Endpoint) (*models.Endpoint, error) {
	if _, err := o.awaitState(ctx, ep.ID, models.EndpointPaused); err != nil {
		return nil, err
	}
	return o.GetEndpoint(ctx, ep.ID)
}

// checkProfileChange refuses a new profile the current secret does not
// suit, unless a new secret comes with it.
func checkProfileChange(ep *models.Endpoint, in *EndpointInput) error {
	if in.Profile == nil || in.Secret != nil || *in.Profile == ep.Profile {
		return nil
	}
	p, err := profile.Lookup(*in.Profile)
	if err != nil {
		return invalid("profile", "%s", err)
	}
	if p.ValidateSecret(ep.Secret) != nil {
		return invalid("secret", "the current secret does not suit profile %s; send a new secret with the profile change", *in.Profile)
	}
	return nil
}

// DeleteEndpoint deletes an endpoint. Its unfinished deliveries are
// cancelled and their workflows stopped, and its health workflow ends.
// Finished deliveries and attempts stay readable.
func (o *Ops) DeleteEndpoint(ctx context.Context, id string) error {
	open, err := o.store.DeleteEndpoint(ctx, id)
	if err != nil {
		return storeError(err, "endpoint", id)
	}
	o.stopWorkflows(ctx, id, open)
	o.log.Info("endpoint.deleted", "endpoint_id", id, "cancelled_deliveries", len(open))
	return nil
}

// stopWorkflows stops a deleted endpoint's workflows, best effort: a
// delivery workflow that is missed finds its endpoint gone at its next
// attempt and ends as cancelled.
func (o *Ops) stopWorkflows(ctx context.Context, endpointID string, open []models.Delivery) {
	if err := o.engine.StopEndpoint(ctx, endpointID, open); err != nil {
		o.log.Warn("endpoint.stop_workflow_failed", "endpoint_id", endpointID, "error", err)
	}
}

// TestInput is an example event to send to one endpoint.
type TestInput struct {
	EventType string         `json:"event_type"` // default hookd.test
	Payload   map[string]any `json:"payload"`    // default a small example
}

// TestEndpoint sends an example event to this endpoint only and answers its delivery.
func (o *Ops) TestEndpoint(ctx context.Context, id string, in TestInput) (*models.Delivery, error) {
	if in.EventType == "" {
		in.EventType = "hookd.test"
	}
	if len(in.EventType) > 255 || !eventTypePattern.MatchString(in.EventType) {
		return nil, invalid("event_type", "must be dot-separated words, like \"lead.created\"")
	}
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	payload := in.Payload
	if payload == nil {
		payload = map[string]any{"test": true, "message": "a test event sent by hookd"}
	}
	body, err := marshalPure(payload)
	if err != nil {
		return nil, invalid("payload", "is not a JSON object")
	}
	ingested, err := o.ingest(ctx, ingestRequest{
		Type: in.EventType, TenantID: ep.TenantID, Payload: body,
		IdempotencyKey: models.NewID("test"), Endpoints: []models.Endpoint{*ep},
	})
	if err != nil {
		return nil, err
	}
	if len(ingested.Deliveries) != 1 {
		return nil, errors.New("test event produced no delivery")
	}
	return &ingested.Deliveries[0], nil
}

// marshalPure encodes v as JSON without escaping <, > and &.
func marshalPure(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
