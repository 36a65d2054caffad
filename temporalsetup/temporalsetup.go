// Package temporalsetup readies a Temporal cluster for hookd and connects to
// it: it registers the namespace when the cluster lacks it, adds hookd's
// search attributes, and dials the client. Each step leaves what is already
// there alone, so every process may run them at every start. (In dev, the
// embedded server of package devserver creates the namespace with its search
// attributes instead.)
package temporalsetup

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/hookd/hookd/workflows"
)

// RegisteredData is the entry of a namespace's data that marks it as
// registered by hookd (EnsureNamespace): hookd then keeps its retention in
// step with HOOKD_RETENTION (see Retention).
const RegisteredData = "hookd.registered"

// NamespaceRetention is the retention of closed workflows that goes with
// hookd's retention of its own data: an hour longer, so a delivery's
// workflow outlives its rows in hookd's store by the prune schedule's
// period.
func NamespaceRetention(retention time.Duration) time.Duration { return retention + time.Hour }

// EnsureNamespace registers opts.Namespace on the Temporal cluster at
// opts.HostPort (connecting with opts' TLS and credentials) if it does not
// exist yet, keeping closed workflows for NamespaceRetention(retention) and
// marked as hookd's (RegisteredData), so a fresh cluster needs no manual
// step. An existing namespace is left as it is.
func EnsureNamespace(ctx context.Context, opts client.Options, retention time.Duration) error {
	namespace := opts.Namespace
	nc, err := client.NewNamespaceClient(opts)
	if err != nil {
		return connectError(opts, err)
	}
	defer nc.Close()
	_, err = nc.Describe(ctx, namespace)
	var nf *serviceerror.NamespaceNotFound
	if !errors.As(err, &nf) {
		if err != nil {
			return connectError(opts, err)
		}
		return nil
	}
	err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: namespace, WorkflowExecutionRetentionPeriod: durationpb.New(NamespaceRetention(retention)),
		Data: map[string]string{RegisteredData: "true"},
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

// Retention keeps the namespace's retention of closed workflows in step
// with hookd's retention of its own data: on a namespace hookd owns (the
// embedded one of dev, or one EnsureNamespace registered), it sets it to
// NamespaceRetention(retention) when it is anything else; on a namespace
// someone else made, it only warns when workflows are kept for less than
// hookd keeps their deliveries (the Temporal UI then lacks the workflow of
// a delivery the API still lists).
func Retention(ctx context.Context, c client.Client, namespace string, retention time.Duration, owned bool, log *slog.Logger) error {
	desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("describe namespace %s: %w", namespace, err)
	}
	have := desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	if !owned && desc.GetNamespaceInfo().GetData()[RegisteredData] != "true" {
		if have < retention {
			log.Warn("temporal.retention_shorter", "namespace", namespace, "namespace_retention", have.String(),
				"hookd_retention", retention.String(),
				"hint", "closed workflows go before hookd prunes their deliveries; raise the namespace's retention or lower HOOKD_RETENTION")
		}
		return nil
	}
	want := NamespaceRetention(retention)
	if have == want {
		return nil
	}
	req := &workflowservice.UpdateNamespaceRequest{
		Namespace: namespace,
		Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(want)},
	}
	// A namespace registered a moment ago is described at once but not
	// found by an update until the frontend's namespace cache has it.
	for try := 0; ; try++ {
		_, err = c.WorkflowService().UpdateNamespace(ctx, req)
		var nf *serviceerror.NamespaceNotFound
		if err == nil || try >= 60 || !errors.As(err, &nf) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("set the retention of namespace %s to %s: %w", namespace, want, err)
	}
	log.Info("temporal.retention_set", "namespace", namespace, "from", have.String(), "to", want.String())
	return nil
}

// Dial connects a client with opts (address, namespace, TLS, credentials).
// The SDK logs through log, warnings and worse only.
func Dial(ctx context.Context, opts client.Options, log *slog.Logger) (client.Client, error) {
	opts.Logger = sdklog.NewStructuredLogger(slog.New(levelFloor{log.Handler(), slog.LevelWarn}))
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, connectError(opts, err)
	}
	return c, nil
}

// connectError is err, from connecting with opts, with the settings to look
// at when it is about TLS or authentication.
func connectError(opts client.Options, err error) error {
	msg := err.Error()
	// The SDK retries a failed handshake until its deadline and reports
	// only that. When the error does not say what is wrong with TLS, one
	// handshake of our own does.
	if !strings.Contains(msg, "tls:") && !strings.Contains(msg, "x509:") {
		if hs := probeTLS(opts); hs != nil {
			err = fmt.Errorf("%w (TLS handshake: %v)", err, hs)
			msg = err.Error()
		}
	}
	var hint string
	switch {
	case strings.Contains(msg, "x509:"):
		hint = "the server's certificate is not trusted: check TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_SERVER_NAME"
	case strings.Contains(msg, "remote error: tls:") && len(tlsCertificates(opts)) == 0:
		hint = "the server refused the TLS handshake and hookd sent no client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH"
	case strings.Contains(msg, "remote error: tls:"):
		hint = "the server refused hookd's client certificate (is it signed by a CA the server trusts?): check TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH"
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "handshake"):
		hint = "TLS failed: check TEMPORAL_TLS and the TEMPORAL_TLS_* settings against the server's"
	case refusedCredentials(err):
		hint = "the server did not accept hookd's credentials: check TEMPORAL_API_KEY (or the client certificate) and TEMPORAL_NAMESPACE"
	}
	if hint == "" {
		return fmt.Errorf("connect to temporal at %s: %w", opts.HostPort, err)
	}
	return fmt.Errorf("connect to temporal at %s: %s: %w", opts.HostPort, hint, err)
}

// refusedCredentials reports whether the server refused err's request for
// its credentials: a PermissionDenied or Unauthenticated answer. (The
// text of a PermissionDenied is the server's message alone, so it is
// matched by type, not by name.)
func refusedCredentials(err error) bool {
	var denied *serviceerror.PermissionDenied
	code := status.Code(err)
	return errors.As(err, &denied) || code == codes.PermissionDenied || code == codes.Unauthenticated
}

// probeTLS makes one TLS handshake with opts' TLS settings and returns its
// error: nil when it succeeds or opts use no TLS. A server refuses a client
// certificate after the handshake (TLS 1.3), so it also waits a moment for
// the server's alert.
func probeTLS(opts client.Options) error {
	if opts.ConnectionOptions.TLS == nil {
		return nil
	}
	conf := opts.ConnectionOptions.TLS.Clone()
	if conf.ServerName == "" {
		conf.ServerName, _, _ = net.SplitHostPort(opts.HostPort)
	}
	conf.NextProtos = []string{"h2"}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", opts.HostPort, conf)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != nil && strings.Contains(err.Error(), "tls:") {
		return err
	}
	return nil
}

func tlsCertificates(opts client.Options) []tls.Certificate {
	if opts.ConnectionOptions.TLS == nil {
		return nil
	}
	return opts.ConnectionOptions.TLS.Certificates
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
