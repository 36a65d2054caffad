package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd/activities"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// pruneResult is retention's prune over scenario (d)'s data set (-prune-share).
type pruneResult struct {
	Share      float64
	Before     time.Time     // the cutoff
	Retention  time.Duration // what HOOKD_RETENTION the cutoff stands for
	Deliveries int           // deleted, with as many attempts
	Events     int
	DelivTime  time.Duration // deleting the deliveries and their attempts
	EventTime  time.Duration // the walk over the events
	Batches    sample        // each batch's time, both phases
	Err        error
}

// prune runs the batches the Prune workflow runs, through its activities,
// back to back, over the oldest share of scenario (d)'s deliveries (by
// updated_at): first the finished deliveries with their attempts, then the
// events without deliveries. It measures the database's work; a workflow
// adds one activity round-trip through Temporal per batch.
func (b *bench) prune(ctx context.Context, store *models.Store) pruneResult {
	r := pruneResult{Share: b.opt.pruneShare}
	var span struct{ Lo, Hi time.Time }
	if err := store.DB().WithContext(ctx).Raw("SELECT min(updated_at) AS lo, max(updated_at) AS hi FROM deliveries").Scan(&span).Error; err != nil {
		r.Err = err
		return r
	}
	r.Before = span.Lo.Add(time.Duration(float64(span.Hi.Sub(span.Lo)) * r.Share))
	r.Retention = time.Since(r.Before)
	act := &activities.Retention{Store: store, Heartbeat: func(context.Context, ...any) {}}
	limit := workflows.DefaultPruneBatch
	b.progress("scenario d: pruning what finished before %s (%.0f%% of the deliveries by time, retention %s)",
		r.Before.UTC().Format(time.RFC3339), 100*r.Share, r.Retention.Round(time.Minute))
	t0 := time.Now()
	for {
		t := time.Now()
		n, err := act.PruneDeliveries(ctx, activities.PruneBatch{Before: r.Before, Limit: limit})
		if err != nil {
			r.Err = err
			return r
		}
		r.Batches = append(r.Batches, time.Since(t))
		r.Deliveries += n
		if n < limit {
			break
		}
	}
	r.DelivTime = time.Since(t0)
	t0 = time.Now()
	var cur activities.EventCursor
	for {
		t := time.Now()
		p, err := act.PruneEvents(ctx, activities.PruneBatch{Before: r.Before, Limit: limit, Cursor: cur})
		if err != nil {
			r.Err = err
			return r
		}
		r.Batches = append(r.Batches, time.Since(t))
		r.Events += p.Deleted
		cur = p.Next
		if p.Done {
			break
		}
	}
	r.EventTime = time.Since(t0)
	return r
}

// pruneAndListAgain prunes (-prune-share) and makes the list requests again.
func (b *bench) pruneAndListAgain(ctx context.Context, store *models.Store, c *apiClient, eps []seeded, r *dResult) {
	p := b.prune(ctx, store)
	r.Prune = &p
	if p.Err != nil {
		b.progress("scenario d: prune failed: %v", p.Err)
		b.failed = true
		return
	}
	b.progress("scenario d: pruned %d deliveries in %s and %d events in %s; listing again",
		p.Deliveries, ms(p.DelivTime), p.Events, ms(p.EventTime))
	r.CasesAfterPrune = b.measureList(ctx, c, eps)
}

// printPrune prints the prune's figures and the list latencies before and
// after it.
func printPrune(r *pruneResult, before, after []*listCase) {
	if r.Err != nil {
		fmt.Printf("## (d) prune — failed: %v\n\n", r.Err)
		return
	}
	fmt.Printf("## (d) prune: the oldest %.0f%% (retention %s): %d deliveries with their attempts in %s, then %d events in %s; %d batches of at most %d\n\n",
		100*r.Share, r.Retention.Round(time.Minute), r.Deliveries, ms(r.DelivTime), r.Events, ms(r.EventTime),
		len(r.Batches), workflows.DefaultPruneBatch)
	t := table{head: []string{"batch", "n", "p50", "p95", "max"}}
	t.add("one batch (one transaction)", fmt.Sprint(len(r.Batches)), ms(r.Batches.pct(50)), ms(r.Batches.pct(95)), ms(r.Batches.max()))
	t.print()
	t = table{head: []string{"request", "p50 before", "p50 after", "p95 before", "p95 after"}}
	byName := map[string]*listCase{}
	for _, c := range after {
		byName[c.Name] = c
	}
	for _, c := range before {
		a := byName[c.Name]
		if a == nil {
			continue
		}
		t.add(c.Name, ms(c.Lat.pct(50)), ms(a.Lat.pct(50)), ms(c.Lat.pct(95)), ms(a.Lat.pct(95)))
	}
	t.print()
}
