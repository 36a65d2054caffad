package operations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
)

// EventTypeStore is what the event catalog operations need of the store.
type EventTypeStore interface {
	CreateEventType(ctx context.Context, t *models.EventType) error
	AddEventTypes(ctx context.Context, ts []models.EventType) (int64, error)
	UpsertEventTypes(ctx context.Context, ts []models.EventType) error
	GetEventType(ctx context.Context, name string) (*models.EventType, error)
	ListEventTypes(ctx context.Context, after string, limit int) ([]models.EventType, error)
}

// EventTypeInput is an event type to add to the catalog.
type EventTypeInput struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
}

// ListEventTypes lists the catalog by name, after the name cursor ("" for
// the first page), at most limit.
func (o *Ops) ListEventTypes(ctx context.Context, cursor string, limit int) ([]models.EventType, error) {
	return o.store.ListEventTypes(ctx, cursor, limit)
}

// CreateEventType adds an event type. When a schema is given, events of the
// type are validated against it at ingest (JSON Schema, draft 2020-12 unless
// the schema says otherwise). A name already present is a Conflict.
func (o *Ops) CreateEventType(ctx context.Context, in EventTypeInput) (*models.EventType, error) {
	if in.Name == "" {
		return nil, invalid("name", "is required")
	}
	if len(in.Name) > 255 || !eventTypePattern.MatchString(in.Name) {
		return nil, invalid("name", "must be dot-separated words of letters, digits, '_', '-' or ':', like \"lead.created\"")
	}
	if len(in.Description) > 1024 {
		return nil, invalid("description", "at most 1024 bytes")
	}
	schema, err := validSchema(in.Name, in.Schema)
	if err != nil {
		return nil, err
	}
	now := o.now().UTC()
	t := &models.EventType{Name: in.Name, Description: in.Description, Schema: string(schema), CreatedAt: now, UpdatedAt: now}
	if err := o.store.CreateEventType(ctx, t); err != nil {
		if errors.Is(err, models.ErrExists) {
			return nil, &Error{Kind: Conflict, Field: "name", Message: "event type " + in.Name + " already exists"}
		}
		return nil, err
	}
	return t, nil
}

// validSchema compacts and compiles a schema given for an event type; none
// (or null) is nil.
func validSchema(name string, raw json.RawMessage) ([]byte, error) {
	schema := bytes.TrimSpace(raw)
	if len(schema) == 0 || bytes.Equal(schema, []byte("null")) {
		return nil, nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, schema); err != nil {
		return nil, invalid("schema", "is not valid JSON")
	}
	if _, err := compileSchema(name, compact.Bytes()); err != nil {
		return nil, invalid("schema", "is not a valid JSON Schema: %s", firstLine(err))
	}
	return compact.Bytes(), nil
}

// PresetLoaded is what LoadPreset did.
type PresetLoaded struct {
	Preset     string
	EventTypes int   // in the preset
	Added      int64 // of them, not in the catalog before
}

// LoadPreset adds the event catalog of the vendor whose webhooks the profile
// reproduces (vessel: Vessel's, salesos: SalesOS's, …); types already
// present are kept as they are. An unknown preset is NotFound.
func (o *Ops) LoadPreset(ctx context.Context, name string) (PresetLoaded, error) {
	preset, ok := profile.Presets()[name]
	if !ok {
		var names []string
		for n := range profile.Presets() {
			names = append(names, n)
		}
		slices.Sort(names)
		return PresetLoaded{}, &Error{Kind: NotFound, Field: "profile",
			Message: fmt.Sprintf("no preset %q (presets: %s)", name, strings.Join(names, ", "))}
	}
	now := o.now().UTC()
	ts := make([]models.EventType, len(preset))
	for i, p := range preset {
		ts[i] = models.EventType{Name: p.Name, Description: p.Description, CreatedAt: now, UpdatedAt: now}
	}
	added, err := o.store.AddEventTypes(ctx, ts)
	if err != nil {
		return PresetLoaded{}, err
	}
	return PresetLoaded{Preset: name, EventTypes: len(ts), Added: added}, nil
}

// checkSchema validates a payload against its type's catalog schema, if any.
func (o *Ops) checkSchema(ctx context.Context, eventType string, payload []byte) error {
	t, err := o.store.GetEventType(ctx, eventType)
	if errors.Is(err, models.ErrNotFound) || (err == nil && t.Schema == "") {
		return nil
	}
	if err != nil {
		return err
	}
	sch, err := compileSchema(t.Name, []byte(t.Schema))
	if err != nil {
		return fmt.Errorf("compile stored schema of %s: %w", t.Name, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return invalid("payload", "is not valid JSON")
	}
	if err := sch.Validate(v); err != nil {
		return invalid("payload", "does not match the schema of %s: %s", t.Name, schemaErrorText(err))
	}
	return nil
}

func compileSchema(name string, doc []byte) (*jsonschema.Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	url := "hookd:///event-types/" + name + ".json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(url, v); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// schemaErrorText names the deepest failing location and why.
func schemaErrorText(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return firstLine(err)
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	loc := "/" + strings.Join(ve.InstanceLocation, "/")
	return fmt.Sprintf("at %s: %s", loc, firstLine(ve))
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
