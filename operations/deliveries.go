package operations

import (
	"context"

	"github.com/hookd/hookd/models"
)

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
