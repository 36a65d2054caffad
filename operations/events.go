package operations

import (
	"context"

	"github.com/hookd/hookd/models"
)

// ListEvents lists events newest first, as the filter selects.
func (o *Ops) ListEvents(ctx context.Context, f models.EventFilter) ([]models.Event, error) {
	return o.store.ListEvents(ctx, f)
}

// GetEvent loads an event and one page of its deliveries, newest first:
// those after the delivery id cursor ("" for the first page), at most
// limit. NotFound if there is no such event.
func (o *Ops) GetEvent(ctx context.Context, id, cursor string, limit int) (*models.Event, []models.Delivery, error) {
	ev, err := o.Event(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ds, err := o.store.ListDeliveries(ctx, models.DeliveryFilter{EventID: id, After: cursor, Limit: limit})
	if err != nil {
		return nil, nil, err
	}
	return ev, ds, nil
}

// Event loads an event alone; NotFound if there is no such event.
func (o *Ops) Event(ctx context.Context, id string) (*models.Event, error) {
	ev, err := o.store.GetEvent(ctx, id)
	if err != nil {
		return nil, storeError(err, "event", id)
	}
	return ev, nil
}
