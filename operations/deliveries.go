package operations

import (
	"context"

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
