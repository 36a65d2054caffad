package operations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/hookd/hookd/models"
)

// MaxBatchEvents is the most events one IngestBatch takes.
const MaxBatchEvents = 100

// batchStarts is how many events of a batch start their deliveries at once.
const batchStarts = 16

// BatchEventInput is one event of a batch: an EventInput that carries its
// own idempotency key.
type BatchEventInput struct {
	Type           string          `json:"type"`
	TenantID       string          `json:"tenant_id"`
	Payload        json.RawMessage `json:"payload"`
	OccurredAt     *string         `json:"occurred_at"`
	IdempotencyKey string          `json:"idempotency_key"`
}

// BatchInput is a batch of events to ingest.
type BatchInput struct {
	Events []BatchEventInput `json:"events"`
}

// batchItem is one event of a batch on its way in.
type batchItem struct {
	req       ingestRequest
	endpoints []models.Endpoint
	in        models.Ingested
	found     bool
}

// IngestBatch accepts up to MaxBatchEvents events, all or nothing: every
// event is checked as Ingest checks one, and one refused event (its field
// named "events[i].…") refuses the batch and stores nothing. The new events
// are then stored with their deliveries in one transaction, and their
// deliveries started; an event whose tenant and idempotency key repeat a
// stored event's, with the same content, is answered with the stored one
// (Replayed), so a batch is retried as a whole with the same keys. The
// answer is in the batch's order.
func (o *Ops) IngestBatch(ctx context.Context, in BatchInput) ([]models.Ingested, error) {
	items, err := validateBatch(in.Events)
	if err != nil {
		return nil, err
	}
	// A concurrent request that stores one of the keys between the look-up
	// and the insert fails the insert as a whole: look again, and the key is
	// a replay or a conflict.
	for try := 0; ; try++ {
		err = o.storeBatch(ctx, items)
		if !errors.Is(err, models.ErrKeyTaken) || try == 2 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if err := o.startBatch(ctx, items); err != nil {
		return nil, err
	}
	out := make([]models.Ingested, len(items))
	for i, it := range items {
		if !it.in.Replayed {
			o.accepted(&it.in)
		}
		out[i] = it.in
	}
	return out, nil
}

// validateBatch checks the batch's size and each event, and refuses two
// events of one tenant with one idempotency key.
func validateBatch(events []BatchEventInput) ([]*batchItem, error) {
	if len(events) == 0 || len(events) > MaxBatchEvents {
		return nil, invalid("events", "must hold 1 to %d events, not %d", MaxBatchEvents, len(events))
	}
	items := make([]*batchItem, len(events))
	seen := map[[2]string]int{}
	for i, e := range events {
		if e.IdempotencyKey == "" {
			return nil, atItem(i, invalid("idempotency_key", "is required: a unique key per event makes retries safe"))
		}
		if err := CheckIdempotencyKey(e.IdempotencyKey); err != nil {
			return nil, atItem(i, invalid("idempotency_key", tokenRule))
		}
		r, err := validateEvent(EventInput(e))
		if err != nil {
			return nil, atItem(i, err)
		}
		key := [2]string{e.TenantID, e.IdempotencyKey}
		if first, ok := seen[key]; ok {
			return nil, atItem(i, invalid("idempotency_key", "repeats events[%d]'s, of the same tenant", first))
		}
		seen[key] = i
		items[i] = &batchItem{req: r}
	}
	return items, nil
}

// storeBatch looks each event's key up, checks the new events against
// their schema and endpoints, and stores them in one transaction.
func (o *Ops) storeBatch(ctx context.Context, items []*batchItem) error {
	now := o.now().UTC()
	subscribed := map[[2]string][]models.Endpoint{}
	var fresh []models.NewEvent
	var freshItems []*batchItem
	for i, it := range items {
		if !it.req.OccurredAtGiven {
			it.req.OccurredAt = now
		}
		hash := requestHash(it.req)
		in, found, err := o.store.PriorEvent(ctx, it.req.TenantID, it.req.IdempotencyKey, hash)
		if err != nil {
			return atItem(i, idempotencyError(err))
		}
		key := [2]string{it.req.TenantID, it.req.Type}
		eps, ok := subscribed[key]
		if !ok {
			if eps, err = o.store.SubscribedEndpoints(ctx, it.req.TenantID, it.req.Type); err != nil {
				return err
			}
			subscribed[key] = eps
		}
		it.in, it.found, it.endpoints = in, found, eps
		if found {
			continue
		}
		if err := o.checkEvent(ctx, it.req, eps); err != nil {
			return atItem(i, err)
		}
		fresh = append(fresh, models.NewEvent{Endpoints: eps, Event: newEvent(it.req, hash, now)})
		freshItems = append(freshItems, it)
	}
	if len(fresh) == 0 {
		return nil
	}
	stored, err := o.store.IngestEvents(ctx, fresh)
	if err != nil {
		return err
	}
	for i, it := range freshItems {
		it.in = stored[i]
	}
	return nil
}

// startBatch starts the pending deliveries of every event, batchStarts
// events at a time.
func (o *Ops) startBatch(ctx context.Context, items []*batchItem) error {
	var g errgroup.Group
	g.SetLimit(batchStarts)
	for _, it := range items {
		g.Go(func() error { return o.startPending(ctx, &it.in, it.endpoints) })
	}
	if err := g.Wait(); err != nil {
		return &Error{Kind: Unavailable,
			Message: "the events are stored but some deliveries could not be started yet; retry the batch with the same idempotency keys"}
	}
	return nil
}

// atItem names the batch's event i in err's field and message.
func atItem(i int, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	prefix := fmt.Sprintf("events[%d]", i)
	out := *e
	if e.Field == "" {
		out.Field, out.Message = prefix, prefix+": "+e.Message
		return &out
	}
	out.Field = prefix + "." + e.Field
	if rest, ok := strings.CutPrefix(e.Message, e.Field+": "); ok {
		out.Message = out.Field + ": " + rest
	} else {
		out.Message = out.Field + ": " + e.Message
	}
	return &out
}
