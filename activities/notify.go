package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookd/hookd/models"
)

// Operational webhooks: what hookd tells the operator's own endpoints (those
// of the operational tenant, HOOKD_OPERATIONAL_TENANT) about the endpoints
// of every other tenant.
const (
	NoticeEndpointPaused    = "endpoint.paused"
	NoticeEndpointUnpaused  = "endpoint.unpaused"
	NoticeEndpointDisabled  = "endpoint.disabled"
	NoticeDeliveryExhausted = "delivery.exhausted"
)

// NoticeSender accepts an operational webhook as an event of the
// operational tenant, through hookd's own ingest (signed, durable, logged,
// one Delivery workflow per subscribed endpoint); operations.Ops
// implements it. The same idempotency key is accepted once.
type NoticeSender interface {
	Notify(ctx context.Context, eventType, idempotencyKey string, payload json.RawMessage, occurredAt time.Time) error
}

// Notifier sends the operational webhooks the workflows ask for. Workflows
// call it through a nil *Notifier.
type Notifier struct {
	Store  *models.Store
	Sender NoticeSender
	// Tenant is the operational tenant: notices about its own endpoints are
	// not sent, so a failing operator endpoint cannot feed on itself.
	Tenant string
	Logger *slog.Logger
}

// NoticeInput is what a workflow asks Notify to send. It holds ids and
// what the workflow knows, never URLs or secrets (it is workflow history);
// At is workflow time, so the notice's idempotency key is the same however
// often the activity runs.
type NoticeInput struct {
	Type       string    `json:"type"`
	EndpointID string    `json:"endpoint_id"`
	At         time.Time `json:"at"`
	Reason     string    `json:"reason,omitempty"`
	// DeliveryID, EventID, Attempts, LastStatusCode and LastError describe
	// the delivery of a delivery.exhausted.
	DeliveryID     string `json:"delivery_id,omitempty"`
	EventID        string `json:"event_id,omitempty"`
	Attempts       int    `json:"attempts,omitempty"`
	LastStatusCode int    `json:"last_status_code,omitempty"`
	LastError      string `json:"last_error,omitempty"`
}

// Key is the notice's idempotency key: its type, what it is about and its
// time, e.g. endpoint.paused/ep_…/1767225600000000000.
func (n NoticeInput) Key() string {
	about := n.EndpointID
	if n.Type == NoticeDeliveryExhausted {
		about = n.DeliveryID
	}
	return fmt.Sprintf("%s/%s/%d", n.Type, about, n.At.UnixNano())
}

// endpointNotice is the payload of the endpoint.* notices; delivery.exhausted
// adds deliveryNotice.
type endpointNotice struct {
	EndpointID string     `json:"endpoint_id"`
	TenantID   string     `json:"tenant_id"`
	URL        string     `json:"url"`
	Reason     string     `json:"reason,omitempty"`
	PausedAt   *time.Time `json:"paused_at,omitempty"`
	UnpausedAt *time.Time `json:"unpaused_at,omitempty"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

type deliveryNotice struct {
	endpointNotice
	DeliveryID     string    `json:"delivery_id"`
	EventID        string    `json:"event_id"`
	EventType      string    `json:"event_type"`
	Attempts       int       `json:"attempts"`
	LastStatusCode int       `json:"last_status_code"`
	LastError      string    `json:"last_error"`
	ExhaustedAt    time.Time `json:"exhausted_at"`
}

// Notify sends one operational webhook, unless its endpoint is gone or
// belongs to the operational tenant. It is called at least once per notice;
// the idempotency key makes the repeats one event.
func (n *Notifier) Notify(ctx context.Context, in NoticeInput) error {
	ep, err := n.Store.GetEndpoint(ctx, in.EndpointID)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ep.TenantID == n.Tenant {
		return nil
	}
	payload, err := n.payload(ctx, ep, in)
	if err != nil {
		return err
	}
	if err := n.Sender.Notify(ctx, in.Type, in.Key(), payload, in.At.UTC().Truncate(time.Microsecond)); err != nil {
		return fmt.Errorf("send %s: %w", in.Type, err)
	}
	n.Logger.Info("notice.sent", "event_type", in.Type, "endpoint_id", in.EndpointID, "delivery_id", in.DeliveryID)
	return nil
}

// payload renders the notice's event payload (see operations/operational
// for the JSON Schemas it follows). Its times are in microseconds, as the
// store keeps them, so paused_at is what GET /v1/endpoints/{id} answers.
func (n *Notifier) payload(ctx context.Context, ep *models.Endpoint, in NoticeInput) (json.RawMessage, error) {
	at := in.At.UTC().Truncate(time.Microsecond)
	e := endpointNotice{EndpointID: ep.ID, TenantID: ep.TenantID, URL: ep.URL, Reason: in.Reason}
	switch in.Type {
	case NoticeEndpointPaused:
		e.PausedAt = &at
	case NoticeEndpointUnpaused:
		e.UnpausedAt = &at
	case NoticeEndpointDisabled:
		e.DisabledAt = &at
	case NoticeDeliveryExhausted:
		ev, err := n.Store.GetEvent(ctx, in.EventID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return nil, err
		}
		d := deliveryNotice{endpointNotice: e, DeliveryID: in.DeliveryID, EventID: in.EventID,
			Attempts: in.Attempts, LastStatusCode: in.LastStatusCode, LastError: in.LastError, ExhaustedAt: at}
		if ev != nil {
			d.EventType = ev.Type
		}
		return json.Marshal(d)
	default:
		return nil, fmt.Errorf("unknown notice type %q", in.Type)
	}
	return json.Marshal(e)
}
