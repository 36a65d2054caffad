// Package helm_test checks the Helm chart in hookd/ offline: `helm lint
// --strict`, then `helm template` with the default values and with
// testdata/everything.yaml (every option on), each rendered object decoded
// strictly into its Kubernetes API type (k8s.io/api), so that a misspelt or
// misplaced field fails here rather than in a cluster.
package helm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/hookd/hookd/config"
	"github.com/hookd/hookd/operations"
	"github.com/hookd/hookd/worker"
)

const (
	chart      = "hookd"
	everything = "testdata/everything.yaml"
)

// helmBin finds helm: $HOOKD_HELM, bin/tools/helm (scripts/tools.sh builds
// it there), or PATH. Without it the test skips, unless CI is set.
func helmBin(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("HOOKD_HELM"), "../../bin/tools/helm"}
	if p, err := exec.LookPath("helm"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if info, err := os.Stat(c); err == nil && !info.IsDir() {
			abs, err := filepath.Abs(c)
			require.NoError(t, err)
			return abs
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("helm is missing: `bash scripts/tools.sh` builds it into bin/tools")
	}
	t.Skip("helm is missing: `bash scripts/tools.sh` builds it into bin/tools")
	return ""
}

// helm runs helm with its cache, config and data in a directory of the
// test's own: nothing is read from or written to the user's, and nothing
// is fetched.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := helmBin(t)
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "kubeconfig"),
	)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("helm %s: %w: %s%s", strings.Join(args, " "), err, errOut.String(), out.String())
	}
	return out.String(), nil
}

// rendered is one release's objects, by kind and name.
type rendered struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	accounts    map[string]*corev1.ServiceAccount
	budgets     map[string]*policyv1.PodDisruptionBudget
}

// render runs `helm template` as release "hookd" and decodes every object strictly.
func render(t *testing.T, chartDir string, args ...string) rendered {
	t.Helper()
	out, err := helm(t, append([]string{"template", "hookd", chartDir, "--namespace", "hooks"}, args...)...)
	require.NoError(t, err)
	r, err := decodeAll(out)
	require.NoError(t, err)
	return r
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeAll splits helm's output into its YAML documents and decodes each
// into the Kubernetes type its apiVersion and kind name, refusing any field
// that type does not have.
func decodeAll(out string) (rendered, error) {
	r := rendered{
		deployments: map[string]*appsv1.Deployment{},
		services:    map[string]*corev1.Service{},
		accounts:    map[string]*corev1.ServiceAccount{},
		budgets:     map[string]*policyv1.PodDisruptionBudget{},
	}
	for _, doc := range docSeparator.Split(out, -1) {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return r, fmt.Errorf("not YAML: %w\n%s", err, doc)
		}
		if string(js) == "null" {
			continue // only comments
		}
		var head struct{ APIVersion, Kind string }
		if err := json.Unmarshal(js, &head); err != nil {
			return r, err
		}
		var obj interface{ GetName() string }
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "policy/v1 PodDisruptionBudget":
			obj = &policyv1.PodDisruptionBudget{}
		default:
			return r, fmt.Errorf("the chart renders %s %s, which this test does not know: add its type", head.APIVersion, head.Kind)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			return r, fmt.Errorf("%s (%s): %w", head.Kind, source(doc), err)
		}
		if obj.GetName() == "" {
			return r, fmt.Errorf("a %s without a name", head.Kind)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.deployments[o.Name] = o
		case *corev1.Service:
			r.services[o.Name] = o
		case *corev1.ServiceAccount:
			r.accounts[o.Name] = o
		case *policyv1.PodDisruptionBudget:
			r.budgets[o.Name] = o
		}
	}
	return r, nil
}

var sourceLine = regexp.MustCompile(`(?m)^# Source: (.*)$`)

// source is the template a document of helm's output came from.
func source(doc string) string {
	if m := sourceLine.FindStringSubmatch(doc); m != nil {
		return m[1]
	}
	return "?"
}

func TestChartLintsStrictly(t *testing.T) {
	_, err := helm(t, "lint", "--strict", chart)
	require.NoError(t, err)
	_, err = helm(t, "lint", "--strict", chart, "-f", everything)
	require.NoError(t, err)
}

// The decoding is strict: a misspelt field, from a values file (resources
// are copied as given) or from a template, fails the render's decoding.
func TestStrictDecodingRefusesMisspeltFields(t *testing.T) {
	out, err := helm(t, "template", "hookd", chart, "--set", "api.resources.limts.cpu=1")
	require.NoError(t, err, "helm itself renders the typo")
	_, err = decodeAll(out)
	require.ErrorContains(t, err, `Deployment (hookd/templates/api.yaml): json: unknown field "limts"`)

	dir := filepath.Join(t.TempDir(), chart)
	require.NoError(t, os.CopyFS(dir, os.DirFS(chart)))
	bad := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: typo}\nspec:\n  replcas: 2\n" +
		"  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "templates", "typo.yaml"), []byte(bad), 0o644))
	out, err = helm(t, "template", "hookd", dir)
	require.NoError(t, err)
	_, err = decodeAll(out)
	require.ErrorContains(t, err, `Deployment (hookd/templates/typo.yaml): json: unknown field "replcas"`)
}

func TestDefaultValuesRenderAPIAndWorker(t *testing.T) {
	r := render(t, chart)
	require.Len(t, r.deployments, 2)
	require.Len(t, r.services, 1)
	require.Empty(t, r.accounts, "no ServiceAccount unless asked for")
	require.Empty(t, r.budgets, "no PodDisruptionBudget unless asked for")

	api := r.deployments["hookd-api"]
	require.NotNil(t, api)
	c := container(t, api, "api")
	require.Equal(t, []string{"api"}, c.Args)
	require.Equal(t, "hookd:0.1.0", c.Image, "the tag defaults to the chart's appVersion")
	requireProbes(t, c, "http")
	require.Equal(t, int32(8080), c.Ports[0].ContainerPort)
	require.Equal(t, "0.0.0.0:8080", envValue(t, c, "HOOKD_API_ADDR"))
	requireSecretRef(t, c, "HOOKD_API_KEY", "hookd", "api-key")
	requireSecretRef(t, c, "HOOKD_DATABASE_URL", "hookd", "database-url")
	require.Equal(t, "temporal-frontend:7233", envValue(t, c, "HOOKD_TEMPORAL_ADDRESS"))
	require.Equal(t, "default", envValue(t, c, "HOOKD_TEMPORAL_NAMESPACE"))
	require.Equal(t, int64(30), *api.Spec.Template.Spec.TerminationGracePeriodSeconds)
	require.NotNil(t, c.Lifecycle, "a preStop sleep lets the Service drop the pod before it stops taking requests")
	require.Equal(t, int64(5), c.Lifecycle.PreStop.Sleep.Seconds)
	// The API drains in-flight requests for up to 15 s after SIGTERM (app.Stop).
	require.Greater(t, *api.Spec.Template.Spec.TerminationGracePeriodSeconds, c.Lifecycle.PreStop.Sleep.Seconds+15)
	requireScrape(t, api, "8080")

	w := r.deployments["hookd-worker"]
	require.NotNil(t, w)
	wc := container(t, w, "worker")
	require.Equal(t, []string{"worker"}, wc.Args)
	requireProbes(t, wc, "metrics")
	require.Equal(t, "0.0.0.0:9090", envValue(t, wc, "HOOKD_METRICS_ADDR"))
	requireSecretRef(t, wc, "HOOKD_DATABASE_URL", "hookd", "database-url")
	require.False(t, hasEnv(wc, "HOOKD_API_KEY"), "the worker serves no API and gets no API key")
	require.Nil(t, wc.Lifecycle)
	requireScrape(t, w, "9090")
	grace := time.Duration(*w.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	require.Equal(t, 90*time.Second, grace)
	require.Greater(t, grace, worker.StopTimeout, "the kubelet must not kill a worker that is letting attempts finish")
	require.GreaterOrEqual(t, worker.StopTimeout, operations.MaxAttemptTimeout, "a stopping worker waits out the longest attempt")

	for _, d := range r.deployments {
		requireHardened(t, d)
		require.Equal(t, "default", d.Spec.Template.Spec.ServiceAccountName)
	}
	svc := r.services["hookd-api"]
	require.NotNil(t, svc)
	require.Equal(t, corev1.ServiceTypeClusterIP, svc.Spec.Type)
	require.Equal(t, int32(80), svc.Spec.Ports[0].Port)
	require.Equal(t, "http", svc.Spec.Ports[0].TargetPort.StrVal)
	require.Equal(t, api.Spec.Selector.MatchLabels, svc.Spec.Selector, "the Service selects the api pods")
	require.NotEqual(t, api.Spec.Selector.MatchLabels, w.Spec.Selector.MatchLabels, "and not the workers")
	requireEnvKnown(t, r)
}

func TestEveryOptionRenders(t *testing.T) {
	r := render(t, chart, "-f", everything)
	require.Len(t, r.deployments, 2)
	require.Len(t, r.accounts, 1)
	require.Len(t, r.budgets, 2)

	api := r.deployments["hookd-api"]
	c := container(t, api, "api")
	require.Equal(t, int32(3), *api.Spec.Replicas)
	require.Equal(t, "registry.example.com/hookd:1.2.3", c.Image)
	requireProbes(t, c, "http")
	require.Equal(t, "0.0.0.0:8081", envValue(t, c, "HOOKD_API_ADDR"))
	requireSecretRef(t, c, "HOOKD_API_KEY", "hookd-api", "keys")
	require.Equal(t, "https://hooks.example.com", envValue(t, c, "HOOKD_PUBLIC_URL"))
	require.Equal(t, "https://temporal.example.com", envValue(t, c, "HOOKD_TEMPORAL_UI_URL"))
	require.Equal(t, "https://app.example.com", envValue(t, c, "HOOKD_PORTAL_FRAME_ANCESTORS"))
	require.Equal(t, int64(45), *api.Spec.Template.Spec.TerminationGracePeriodSeconds)
	require.Equal(t, int64(10), c.Lifecycle.PreStop.Sleep.Seconds)
	requireScrape(t, api, "8081")
	require.Equal(t, "hooks", api.Spec.Template.Annotations["example.com/team"], "pod annotations beside the scrape ones")
	require.Equal(t, "edge", api.Spec.Template.Labels["example.com/tier"])

	w := r.deployments["hookd-worker"]
	wc := container(t, w, "worker")
	require.Equal(t, int32(4), *w.Spec.Replicas)
	require.Equal(t, "0.0.0.0:9191", envValue(t, wc, "HOOKD_METRICS_ADDR"))
	require.Equal(t, "900MiB", envValue(t, wc, "GOMEMLIMIT"))
	require.False(t, hasEnv(c, "GOMEMLIMIT"), "a component's extraEnv is its own")
	requireScrape(t, w, "9191")
	require.Equal(t, int64(120), *w.Spec.Template.Spec.TerminationGracePeriodSeconds)

	for name, d := range r.deployments {
		c := d.Spec.Template.Spec.Containers[0]
		requireHardened(t, d)
		requireSecretRef(t, c, "HOOKD_DATABASE_URL", "hookd-db", "url")
		requireSecretRef(t, c, "TEMPORAL_API_KEY", "temporal-cloud", "api-key")
		require.Equal(t, "my-ns.a1b2c.tmprl.cloud:7233", envValue(t, c, "HOOKD_TEMPORAL_ADDRESS"), name)
		require.Equal(t, "my-ns.a1b2c", envValue(t, c, "HOOKD_TEMPORAL_NAMESPACE"))
		require.Equal(t, "true", envValue(t, c, "TEMPORAL_TLS"))
		require.Equal(t, "/etc/hookd/temporal-tls/tls.crt", envValue(t, c, "TEMPORAL_TLS_CLIENT_CERT_PATH"))
		require.Equal(t, "/etc/hookd/temporal-tls/tls.key", envValue(t, c, "TEMPORAL_TLS_CLIENT_KEY_PATH"))
		require.Equal(t, "/etc/hookd/temporal-tls/ca.crt", envValue(t, c, "TEMPORAL_TLS_SERVER_CA_CERT_PATH"))
		require.Equal(t, "temporal.example.com", envValue(t, c, "TEMPORAL_TLS_SERVER_NAME"))
		require.Equal(t, "debug", envValue(t, c, "HOOKD_LOG_LEVEL"))
		require.Equal(t, "10.20.0.0/16", envValue(t, c, "HOOKD_ALLOW_PRIVATE_TARGETS"))
		require.Equal(t, "500", envValue(t, c, "HOOKD_MAX_ENDPOINTS_PER_TENANT"))
		require.Equal(t, "hookd-tenancy", env(t, c, "HOOKD_ONE_ENDPOINT_PER_TENANT").ValueFrom.ConfigMapKeyRef.Name)
		require.Contains(t, c.VolumeMounts, corev1.VolumeMount{Name: "temporal-tls", MountPath: "/etc/hookd/temporal-tls", ReadOnly: true})
		var tls *corev1.Volume
		for i := range d.Spec.Template.Spec.Volumes {
			if d.Spec.Template.Spec.Volumes[i].Name == "temporal-tls" {
				tls = &d.Spec.Template.Spec.Volumes[i]
			}
		}
		require.NotNil(t, tls)
		require.Equal(t, "temporal-mtls", tls.Secret.SecretName)
		require.Equal(t, "hookd-runner", d.Spec.Template.Spec.ServiceAccountName)
		require.Equal(t, []corev1.LocalObjectReference{{Name: "registry"}}, d.Spec.Template.Spec.ImagePullSecrets)
		require.Equal(t, "linux", d.Spec.Template.Spec.NodeSelector["kubernetes.io/os"])
		require.Len(t, d.Spec.Template.Spec.Tolerations, 1)
		require.NotNil(t, d.Spec.Template.Spec.Affinity.PodAntiAffinity)
	}
	require.Equal(t, "arn:aws:iam::123456789012:role/hookd", r.accounts["hookd-runner"].Annotations["eks.amazonaws.com/role-arn"])
	svc := r.services["hookd-api"]
	require.Equal(t, corev1.ServiceTypeLoadBalancer, svc.Spec.Type)
	require.Equal(t, int32(443), svc.Spec.Ports[0].Port)
	require.Equal(t, "true", svc.Annotations["service.beta.kubernetes.io/aws-load-balancer-internal"])
	require.Equal(t, 2, r.budgets["hookd-api"].Spec.MinAvailable.IntValue())
	require.Equal(t, r.deployments["hookd-api"].Spec.Selector.MatchLabels, r.budgets["hookd-api"].Spec.Selector.MatchLabels)
	require.Equal(t, 1, r.budgets["hookd-worker"].Spec.MinAvailable.IntValue())
	requireEnvKnown(t, r)
}

// The secrets hookd reads are Secret references only: a value for one in
// extraEnv is refused, as is a worker grace period the stop timeout does
// not fit in.
func TestChartRefusesSecretValuesAndShortWorkerGrace(t *testing.T) {
	for _, name := range []string{"HOOKD_DATABASE_URL", "HOOKD_API_KEY", "TEMPORAL_API_KEY"} {
		for _, list := range []string{"extraEnv", "api.extraEnv", "worker.extraEnv"} {
			_, err := helm(t, "template", "hookd", chart, "--set", list+"[0].name="+name, "--set", list+"[0].value=s3cr3t-value-0123")
			require.ErrorContains(t, err, name+" may not be given as a value", list)
		}
	}
	stop := int(worker.StopTimeout / time.Second)
	_, err := helm(t, "template", "hookd", chart, "--set", "worker.terminationGracePeriodSeconds="+strconv.Itoa(stop))
	require.ErrorContains(t, err, "worker.terminationGracePeriodSeconds must be more than "+strconv.Itoa(stop))
	r := render(t, chart, "--set", "worker.terminationGracePeriodSeconds="+strconv.Itoa(stop+1))
	require.Equal(t, int64(stop+1), *r.deployments["hookd-worker"].Spec.Template.Spec.TerminationGracePeriodSeconds)
}

func container(t *testing.T, d *appsv1.Deployment, name string) corev1.Container {
	t.Helper()
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	c := d.Spec.Template.Spec.Containers[0]
	require.Equal(t, name, c.Name)
	return c
}

// requireProbes: liveness and start-up on /healthz, readiness on /readyz
// (database and Temporal reachable), all on the named port.
func requireProbes(t *testing.T, c corev1.Container, port string) {
	t.Helper()
	for probe, want := range map[*corev1.Probe]string{c.StartupProbe: "/healthz", c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		require.NotNil(t, probe)
		require.Equal(t, want, probe.HTTPGet.Path)
		require.Equal(t, port, probe.HTTPGet.Port.StrVal)
	}
	// /readyz waits up to operations.ReadyTimeout for the database and Temporal.
	require.Greater(t, time.Duration(c.ReadinessProbe.TimeoutSeconds)*time.Second, operations.ReadyTimeout)
	named := false
	for _, p := range c.Ports {
		named = named || p.Name == port
	}
	require.True(t, named, "the probes' port %s is declared", port)
}

func requireScrape(t *testing.T, d *appsv1.Deployment, port string) {
	t.Helper()
	a := d.Spec.Template.Annotations
	require.Equal(t, "true", a["prometheus.io/scrape"])
	require.Equal(t, port, a["prometheus.io/port"])
	require.Equal(t, "/metrics", a["prometheus.io/path"])
}

// requireHardened: non-root uid 65532, read-only root filesystem, no
// capabilities, no service account token.
func requireHardened(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	spec := d.Spec.Template.Spec
	require.True(t, *spec.SecurityContext.RunAsNonRoot)
	require.Equal(t, int64(65532), *spec.SecurityContext.RunAsUser)
	require.False(t, *spec.AutomountServiceAccountToken)
	sc := spec.Containers[0].SecurityContext
	require.True(t, *sc.ReadOnlyRootFilesystem)
	require.False(t, *sc.AllowPrivilegeEscalation)
	require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	require.Contains(t, spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"}, "a writable /tmp")
	require.Equal(t, 0, d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue(), "a rollout starts new pods before it stops old ones")
}

// requireEnvKnown: every HOOKD_ variable the chart sets is one hookd reads
// (hookd refuses to start on any other), none is set twice, and none of the
// secrets has a value in the rendered objects.
func requireEnvKnown(t *testing.T, r rendered) {
	t.Helper()
	known := map[string]bool{}
	for _, s := range config.Settings {
		known[s.Name] = true
	}
	for _, v := range config.TemporalVariables {
		known[v.Name] = true
	}
	for name, d := range r.deployments {
		seen := map[string]bool{}
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			require.False(t, seen[e.Name], "%s: %s set twice", name, e.Name)
			seen[e.Name] = true
			if strings.HasPrefix(e.Name, "HOOKD_") || strings.HasPrefix(e.Name, "TEMPORAL_") {
				require.True(t, known[e.Name], "%s: hookd reads no %s", name, e.Name)
			}
			switch e.Name {
			case "HOOKD_DATABASE_URL", "HOOKD_API_KEY", "TEMPORAL_API_KEY":
				require.Empty(t, e.Value, "%s: %s has a value", name, e.Name)
				require.NotNil(t, e.ValueFrom.SecretKeyRef, "%s: %s from a Secret", name, e.Name)
			}
		}
	}
}

func env(t *testing.T, c corev1.Container, name string) corev1.EnvVar {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("%s has no %s", c.Name, name)
	return corev1.EnvVar{}
}

func hasEnv(c corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return true
		}
	}
	return false
}

func envValue(t *testing.T, c corev1.Container, name string) string {
	t.Helper()
	e := env(t, c, name)
	require.Nil(t, e.ValueFrom, "%s is a plain value", name)
	return e.Value
}

func requireSecretRef(t *testing.T, c corev1.Container, name, secret, key string) {
	t.Helper()
	e := env(t, c, name)
	require.Empty(t, e.Value, "%s comes from a Secret, never a value", name)
	require.NotNil(t, e.ValueFrom)
	require.NotNil(t, e.ValueFrom.SecretKeyRef, "%s is a secretKeyRef", name)
	require.Equal(t, secret, e.ValueFrom.SecretKeyRef.Name)
	require.Equal(t, key, e.ValueFrom.SecretKeyRef.Key)
}
