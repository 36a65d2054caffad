package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/hookd/hookd/models"
)

// The engine floor: the cheapest workflow that makes one POST — one local
// activity, eager start, no database, no search attributes — on the same
// embedded Temporal server, client and worker settings hookd uses, on a task
// queue of its own. Whatever hookd spends above it is hookd's own cost.

const (
	floorQueue         = "hookd-bench-floor"
	floorWorkflowName  = "BenchFloorDelivery"
	floorHeldName      = "BenchFloorHeld"
	floorReleaseSignal = "release"
)

// floorInput carries the whole message: the floor needs no database.
type floorInput struct{ Msg message }

type floorActivities struct{ http *http.Client }

// Post makes the POST.
func (a *floorActivities) Post(ctx context.Context, in floorInput) error {
	return deliverOnce(ctx, a.http, in.Msg)
}

func floorLocalActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 45 * time.Second})
}

// floorDelivery is one POST as one local activity.
func floorDelivery(ctx workflow.Context, in floorInput) error {
	var a *floorActivities
	return workflow.ExecuteLocalActivity(floorLocalActivity(ctx), a.Post, in).Get(ctx, nil)
}

// floorHeld waits for the release signal, then POSTs: the floor of scenario (c).
func floorHeld(ctx workflow.Context, in floorInput) error {
	workflow.GetSignalChannel(ctx, floorReleaseSignal).Receive(ctx, nil)
	var a *floorActivities
	return workflow.ExecuteLocalActivity(floorLocalActivity(ctx), a.Post, in).Get(ctx, nil)
}

// startFloorWorker starts a worker on floorQueue with hookd's worker
// settings (worker/worker.go: 8 pollers, 500 workflow tasks, 1000 local
// activities, local activities only), on hookd's own Temporal client so that
// eager start can hand tasks to it.
func startFloorWorker(c client.Client, h *http.Client) (sdkworker.Worker, error) {
	w := sdkworker.New(c, floorQueue, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers:        8,
		MaxConcurrentWorkflowTaskExecutionSize:  500,
		MaxConcurrentLocalActivityExecutionSize: 1000,
		LocalActivityWorkerOnly:                 true,
	})
	w.RegisterWorkflowWithOptions(floorDelivery, workflow.RegisterOptions{Name: floorWorkflowName})
	w.RegisterWorkflowWithOptions(floorHeld, workflow.RegisterOptions{Name: floorHeldName})
	w.RegisterActivityWithOptions(&floorActivities{http: h}, activity.RegisterOptions{})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start floor worker: %w", err)
	}
	return w, nil
}

type floorSys struct{ b *bench }

func (floorSys) Name() string { return "floor" }

func (s floorSys) start(ctx context.Context, wf, id string, m message) error {
	_, err := s.b.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:               id,
		TaskQueue:        floorQueue,
		EnableEagerStart: true,
	}, wf, floorInput{Msg: m})
	return err
}

func (s floorSys) Single(context.Context) (sendFunc, error) {
	return func(ctx context.Context, key string) error {
		return s.start(ctx, floorWorkflowName, "bench-floor/"+key, message{URL: s.b.recv.URL + "/a",
			EventID: models.NewID("evt"), EventType: "bench.a", TenantID: "bench", Payload: payload(key, 0)})
	}, nil
}

func (s floorSys) Fanout(_ context.Context, n int) (sendFunc, error) {
	return func(ctx context.Context, key string) error {
		id, body := models.NewID("evt"), payload(key, 0)
		return parallel(n, fanParallelism, func(i int) error {
			return s.start(ctx, floorWorkflowName, fmt.Sprintf("bench-floor/%s/%d", key, i), message{
				URL: fmt.Sprintf("%s/b/%d", s.b.recv.URL, i), EventID: id, EventType: "bench.b", TenantID: "bench", Payload: body})
		})
	}, nil
}
