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
