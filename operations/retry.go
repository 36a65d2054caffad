package operations

import (
	"context"

	"github.com/hookd/hookd/engine"
	"github.com/hookd/hookd/models"
)

// RetryDelivery makes one more attempt now, outside the schedule. A
// delivery still under way gets a retry-now signal; a finished one (or one
// whose run is gone) is reset and gets a new run with a single attempt. An
// endpoint that is not active is a Conflict. It answers the delivery as it
// is once the retry is asked for.
func (o *Ops) RetryDelivery(ctx context.Context, id string) (*models.Delivery, error) {
	w, err := o.store.LoadDeliveryWork(ctx, id)
	if err != nil {
		return nil, storeError(err, "delivery", id)
	}
	if w.Endpoint.State != models.EndpointActive {
		act := "unpause"
		if w.Endpoint.State == models.EndpointDisabled {
			act = "enable"
		}
		return nil, &Error{Kind: Conflict,
			Message: "endpoint " + w.Endpoint.ID + " is " + w.Endpoint.State + "; " + act + " it first"}
	}
	if !w.Delivery.Terminal() {
		running, err := o.engine.RetryNow(ctx, &w.Delivery)
		if err != nil {
			return nil, err
		}
		if running {
			return &w.Delivery, nil
		}
	}
	if _, err := o.store.ResetForRedelivery(ctx, w.Delivery.ID); err != nil {
		return nil, err
	}
	r := engine.Redelivery{Trigger: models.TriggerManual, SingleAttempt: true}
	if _, err := o.engine.StartAgain(ctx, w.Delivery.ID, r); err != nil {
		return nil, err
	}
	return o.store.GetDelivery(ctx, id)
}
