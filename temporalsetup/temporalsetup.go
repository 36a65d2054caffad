// Package temporalsetup readies a Temporal cluster for hookd and connects to
// it: it registers the namespace when the cluster lacks it, adds hookd's
// search attributes, and dials the client. Each step leaves what is already
// there alone, so every process may run them at every start. (In dev, the
// embedded server of package devserver creates the namespace with its search
// attributes instead.)
package temporalsetup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/hookd/hookd/workflows"
)

// retention is how long the namespace EnsureNamespace registers keeps the
// history of closed workflows.
const retention = 72 * time.Hour

// EnsureNamespace registers the namespace on the Temporal cluster at hostPort
// if it does not exist yet (3 days retention of closed workflows), so a fresh
// cluster needs no manual step. An
// existing namespace is left as it is.
func EnsureNamespace(ctx context.Context, hostPort, namespace string) error {
	nc, err := client.NewNamespaceClient(client.Options{HostPort: hostPort})
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", hostPort, err)
	}
	defer nc.Close()
	_, err = nc.Describe(ctx, namespace)
	var nf *serviceerror.NamespaceNotFound
	if !errors.As(err, &nf) {
		return err
	}
	err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: namespace, WorkflowExecutionRetentionPeriod: durationpb.New(retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists // another process registered it first
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", namespace, err)
	}
	// A new namespace takes a moment to reach every frontend's cache.
	for i := 0; i < 50; i++ {
		if _, err = nc.Describe(ctx, namespace); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// Dial connects a client to namespace at hostPort. The SDK logs through log,
// warnings and worse only.
func Dial(ctx context.Context, hostPort, namespace string, log *slog.Logger) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  hostPort,
		Namespace: namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(levelFloor{log.Handler(), slog.LevelWarn})),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", hostPort, err)
	}
	return c, nil
}

// RegisterSearchAttributes adds hookd's search attributes
// (workflows.SearchAttributes) to the namespace and returns once workflows
// may set them; attributes already there are left alone, so it is safe to
// repeat.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	ops := c.OperatorService()
	var have *operatorservice.ListSearchAttributesResponse
	var err error
	// A namespace registered a moment ago may not have reached every cache yet.
	for try := 0; ; try++ {
		have, err = ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
		var nf *serviceerror.NotFound
		var nnf *serviceerror.NamespaceNotFound
		if err == nil || try >= 60 || !(errors.As(err, &nf) || errors.As(err, &nnf)) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := workflows.SearchAttributes()
	for name := range missing {
		if _, ok := have.GetCustomAttributes()[name]; ok {
			delete(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	var exists *serviceerror.AlreadyExists // another process added them first
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return awaitSearchAttributes(ctx, c, namespace, missing)
}

// awaitSearchAttributes returns once the namespace's frontends know the
// attributes added. They learn of them when their namespace cache refreshes
// (every few seconds); until then starts that set them are refused. A query
// naming every attribute succeeds only once they are known.
func awaitSearchAttributes(ctx context.Context, c client.Client, namespace string, added map[string]enums.IndexedValueType) error {
	var query []string
	for name := range added {
		query = append(query, name+" = 'probe'")
	}
	req := &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: strings.Join(query, " AND ")}
	for try := 0; ; try++ {
		_, err := c.WorkflowService().CountWorkflowExecutions(ctx, req)
		if err == nil {
			return nil
		}
		if try >= 120 {
			return fmt.Errorf("search attributes added but not usable yet: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// levelFloor drops records below min; Dial uses it to quieten the SDK's logs.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (l levelFloor) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.Handler.Enabled(ctx, lv)
}
func (l levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{l.Handler.WithAttrs(as), l.min}
}
func (l levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{l.Handler.WithGroup(n), l.min}
}
