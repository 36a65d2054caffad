package devserver

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

func Noop(ctx workflow.Context) error { return nil }

func TestZZThroughput(t *testing.T) {
	if os.Getenv("DEVSERVER_BENCH") == "" {
		t.Skip()
	}
	shards, _ := strconv.Atoi(os.Getenv("SHARDS"))
	parts, _ := strconv.Atoi(os.Getenv("PARTS"))
	withAct := os.Getenv("ACT") != ""
	dc := map[string]any{}
	if parts > 0 {
		dc["matching.numTaskqueueReadPartitions"] = parts
		dc["matching.numTaskqueueWritePartitions"] = parts
	}
	var pragmas map[string]string
	if os.Getenv("PRAGMAS") == "none" {
		pragmas = map[string]string{}
	}
	ctx := context.Background()
	srv, err := Start(ctx, Config{DataDir: t.TempDir(), UIPort: -1, NumHistoryShards: int32(shards), DynamicConfig: dc, SQLitePragmas: pragmas})
	require.NoError(t, err)
	defer srv.Stop()
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: srv.Namespace(), Logger: nil})
	require.NoError(t, err)
	defer c.Close()
	w := worker.New(c, "bench", worker.Options{})
	w.RegisterWorkflow(Noop)
	w.RegisterWorkflow(Greet)
	w.RegisterActivity(Exclaim)
	require.NoError(t, w.Start())
	defer w.Stop()
	n := 400
	begin := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			opts := client.StartWorkflowOptions{ID: fmt.Sprint("wf-", i), TaskQueue: "bench", EnableEagerStart: true}
			var run client.WorkflowRun
			var err error
			if withAct {
				run, err = c.ExecuteWorkflow(ctx, opts, Greet, "x")
			} else {
				run, err = c.ExecuteWorkflow(ctx, opts, Noop)
			}
			if err == nil {
				err = run.Get(ctx, nil)
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	el := time.Since(begin)
	t.Logf("shards=%d parts=%d act=%v: %d workflows in %v = %.1f/s", shards, parts, withAct, n, el, float64(n)/el.Seconds())
}
