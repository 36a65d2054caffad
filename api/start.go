package api

import (
	"context"
	"errors"
	"sync"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/workflows"
)

// startParallelism bounds concurrent workflow starts for one fan-out.
const startParallelism = 32

// startDeliveries starts one Delivery workflow per delivery. It is idempotent:
// a delivery whose workflow already runs or ran is left alone.
func (a *API) startDeliveries(ctx context.Context, ev *models.Event, ds []models.Delivery, eps map[string]*models.Endpoint, trigger string) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, startParallelism)
	)
	for i := range ds {
		d := &ds[i]
		ep := eps[d.EndpointID]
		if ep == nil {
			loaded, err := a.store.GetEndpoint(ctx, d.EndpointID)
			if errors.Is(err, models.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			ep = loaded
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := workflows.StartDelivery(ctx, a.temporal, d, ep, ev.Type, ev.TenantID, trigger, ep.RetrySchedule,
				enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
