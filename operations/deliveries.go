package operations

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/models"
)

// DeliveryStore is what the delivery operations (reads and retry) need of the store.
type DeliveryStore interface {
	GetDelivery(ctx context.Context, id string) (*models.Delivery, error)
	ListDeliveries(ctx context.Context, f models.DeliveryFilter) ([]models.Delivery, error)
	ListAttempts(ctx context.Context, deliveryID string) ([]models.Attempt, error)
	LoadDeliveryWork(ctx context.Context, deliveryID string) (*models.DeliveryWork, error)
	ResetForRedelivery(ctx context.Context, deliveryID string) (bool, error)
}

// ListDeliveries lists deliveries newest first, as the filter selects.
func (o *Ops) ListDeliveries(ctx context.Context, f models.DeliveryFilter) ([]models.Delivery, error) {
	return o.store.ListDeliveries(ctx, f)
}

// GetDelivery loads a delivery with every attempt in order; NotFound if
// there is none.
func (o *Ops) GetDelivery(ctx context.Context, id string) (*models.Delivery, []models.Attempt, error) {
	d, err := o.store.GetDelivery(ctx, id)
	if err != nil {
		return nil, nil, storeError(err, "delivery", id)
	}
	atts, err := o.store.ListAttempts(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return d, atts, nil
}

// DeliveryQuery is a delivery list's filters as text, as a query string
// gives them; every field is optional. Filter checks and reads it.
type DeliveryQuery struct {
	EndpointID, EventID, Status, TenantID, EventType string
	Since, Until                                     string // RFC 3339
	Cursor                                           string // a delivery id: the list goes on after it
	Limit                                            string // 1 to 250, default 50
}

// DeliveryStatuses are the statuses a delivery can have.
var DeliveryStatuses = []string{models.DeliveryPending, models.DeliveryHeld, models.DeliverySucceeded,
	models.DeliveryFailed, models.DeliveryCancelled}

// Filter is the store's filter of q, or an Invalid error naming the first
// field at fault.
func (q DeliveryQuery) Filter() (models.DeliveryFilter, error) {
	f := models.DeliveryFilter{EndpointID: q.EndpointID, EventID: q.EventID, Status: q.Status,
		TenantID: q.TenantID, EventType: q.EventType, After: q.Cursor}
	for _, id := range []struct{ name, val, prefix string }{
		{"endpoint_id", q.EndpointID, "ep_"}, {"event_id", q.EventID, "evt_"}, {"cursor", q.Cursor, "dlv_"},
	} {
		if id.val != "" && !IsID(id.val, id.prefix) {
			return f, invalid(id.name, "is not a valid %s… id", id.prefix)
		}
	}
	if q.Status != "" && !slices.Contains(DeliveryStatuses, q.Status) {
		return f, invalid("status", "must be one of %s", strings.Join(DeliveryStatuses, ", "))
	}
	if q.TenantID != "" && !tenantPattern.MatchString(q.TenantID) {
		return f, invalid("tenant_id", tokenRule)
	}
	if q.EventType != "" && (len(q.EventType) > 255 || !eventTypePattern.MatchString(q.EventType)) {
		return f, invalid("event_type", "must be dot-separated words, like \"lead.created\"")
	}
	var err error
	if f.Since, err = ParseTime("since", q.Since); err != nil {
		return f, err
	}
	if f.Until, err = ParseTime("until", q.Until); err != nil {
		return f, err
	}
	if f.Limit, err = ParseLimit(q.Limit, 50); err != nil {
		return f, err
	}
	return f, nil
}

// ParseTime reads an optional RFC 3339 time given as text (a list's
// since or until); the zero time when v is empty.
func ParseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, invalid(field, "must be an RFC 3339 time like 2024-05-01T12:00:00Z")
	}
	return t.UTC(), nil
}

// ParseLimit reads a list's optional page size, 1 to 250; def when v is empty.
func ParseLimit(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 250 {
		return 0, invalid("limit", "must be a whole number from 1 to 250")
	}
	return n, nil
}
