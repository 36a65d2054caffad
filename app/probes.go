package app

import (
	"encoding/json"
	"net/http"

	"github.com/hookd/hookd/operations"
)

// probes adds /healthz and /readyz to mux, the metrics listener's, so that a
// worker, which serves no API, can be probed by a supervisor (Kubernetes) on
// HOOKD_METRICS_ADDR. They answer as the API's do: /healthz 200 while the
// process serves; /readyz 200 when the database and Temporal both answer,
// else 503, with {"ready": …, "checks": {"database": …, "temporal": …}}.
func probes(mux *http.ServeMux, ops *operations.Ops) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ready := ops.Ready(r.Context())
		status := http.StatusOK
		if !ready.Ready() {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, map[string]any{"ready": ready.Ready(), "checks": ready.Checks()})
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
