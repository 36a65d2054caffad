package devserver

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.uber.org/zap/zapcore"
)

// Level mapping from the Temporal server's logger onto slog.
//
// The server logs a lot at Info (shard ownership, membership, task queue
// lifecycle, every service start/stop) that is noise for someone running
// `hookd dev`, so its Info becomes slog Debug and its Debug goes one step
// further below (only visible with a handler at LevelDebug-4). Warn and
// Error keep their level; DPanic/Panic/Fatal become Error (the server itself
// decides whether to panic or exit, not this adapter).
const (
	levelServerDebug = slog.LevelDebug - 4
	levelServerInfo  = slog.LevelDebug
)

// slogAdapter implements the server's log.Logger (and log.WithLogger) on top of
// a *slog.Logger.
//
// Once stopping is set (by Server.Stop), Warn is demoted to Debug: while the
// services shut down one after another, the server's internal workers and
// clients warn about every poll and dial that fails against the services that
// are already gone, which is expected and only noise.
type slogAdapter struct {
	l        *slog.Logger
	stopping *atomic.Bool // shared by all loggers derived with With
}

func newSlogAdapter(l *slog.Logger) slogAdapter {
	return slogAdapter{l: l, stopping: new(atomic.Bool)}
}

var (
	_ log.Logger      = slogAdapter{}
	_ log.WithLogger  = slogAdapter{}
	_ log.SLogWrapper = slogAdapter{}
)

func (a slogAdapter) Debug(msg string, tags ...tag.Tag) { a.log(levelServerDebug, msg, tags) }
func (a slogAdapter) Info(msg string, tags ...tag.Tag)  { a.log(levelServerInfo, msg, tags) }
func (a slogAdapter) Warn(msg string, tags ...tag.Tag) {
	if a.stopping != nil && a.stopping.Load() {
		a.log(slog.LevelDebug, msg, tags)
		return
	}
	a.log(slog.LevelWarn, msg, tags)
}
func (a slogAdapter) Error(msg string, tags ...tag.Tag) { a.log(slog.LevelError, msg, tags) }
func (a slogAdapter) DPanic(msg string, tags ...tag.Tag) {
	a.log(slog.LevelError, msg, tags)
}
func (a slogAdapter) Panic(msg string, tags ...tag.Tag) { a.fatal(msg, tags) }
func (a slogAdapter) Fatal(msg string, tags ...tag.Tag) { a.fatal(msg, tags) }

// ServerFatalError is the panic value raised when the Temporal server logs at
// Fatal or Panic level; Start returns it (wrapped) if that happens during
// start-up.
type ServerFatalError struct {
	Msg string
}

func (e *ServerFatalError) Error() string { return "temporal server fatal: " + e.Msg }

func (a slogAdapter) fatal(msg string, tags []tag.Tag) {
	a.log(slog.LevelError, msg, tags)
	full := msg
	for _, t := range tags {
		full += fmt.Sprintf(" %s=%v", t.Key(), tagValue(t))
	}
	panic(&ServerFatalError{Msg: full})
}

// With returns a logger that prepends tags to every record.
func (a slogAdapter) With(tags ...tag.Tag) log.Logger {
	if len(tags) == 0 {
		return a
	}
	args := make([]any, len(tags))
	for i, t := range tags {
		args[i] = slog.Any(t.Key(), tagValue(t))
	}
	return slogAdapter{l: a.l.With(args...), stopping: a.stopping}
}

// SLog exposes the underlying slog logger; the server uses it for a few
// components (Nexus HTTP handlers) that log through slog directly.
func (a slogAdapter) SLog() *slog.Logger { return a.l }

func (a slogAdapter) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if !a.l.Enabled(ctx, level) {
		return // skip converting tags for records nobody will see
	}
	attrs := make([]slog.Attr, len(tags))
	for i, t := range tags {
		attrs[i] = slog.Any(t.Key(), tagValue(t))
	}
	a.l.LogAttrs(ctx, level, msg, attrs...)
}

// defaultLogger writes Warn and above to stderr and discards the rest.
func defaultLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).
		With("component", "temporal")
}

// tagValue extracts a tag's value. Almost all server tags are zap fields, whose
// generic Value() round-trips through a map encoder (and for errors may return
// the verbose stack form), so take common field types directly.
func tagValue(t tag.Tag) any {
	zt, ok := t.(tag.ZapTag)
	if !ok {
		return t.Value()
	}
	f := zt.Field()
	switch f.Type {
	case zapcore.StringType:
		return f.String
	case zapcore.ErrorType, zapcore.StringerType, zapcore.ReflectType:
		if f.Interface != nil {
			return f.Interface
		}
	}
	return t.Value()
}
