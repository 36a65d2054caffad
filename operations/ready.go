package operations

import (
	"context"
	"time"
)

// Readiness says which of hookd's dependencies answer.
type Readiness struct {
	Database, Engine bool
}

// Ready reports whether both are.
func (r Readiness) Ready() bool { return r.Database && r.Engine }

// Checks is the /readyz answer's "checks": "ok" or "unavailable" per
// dependency, the same for the API's and the worker's probe.
func (r Readiness) Checks() map[string]string {
	state := map[bool]string{true: "ok", false: "unavailable"}
	return map[string]string{"database": state[r.Database], "temporal": state[r.Engine]}
}

// ReadyTimeout bounds how long Ready waits for each answer.
const ReadyTimeout = 3 * time.Second

// Ready checks that the database and the engine (Temporal) both answer.
func (o *Ops) Ready(ctx context.Context) Readiness {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	return Readiness{
		Database: o.store.Ping(ctx) == nil,
		Engine:   o.engine.Ready(ctx) == nil,
	}
}
