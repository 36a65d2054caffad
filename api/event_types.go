package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
)

type eventTypeJSON struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

func toEventTypeJSON(t *models.EventType) eventTypeJSON {
	out := eventTypeJSON{Name: t.Name, Description: t.Description, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if t.Schema != "" {
		out.Schema = json.RawMessage(t.Schema)
	}
	return out
}

// listEventTypes: GET /v1/event-types?limit=&cursor= (cursor: the last name).
func (a *API) listEventTypes(c *gin.Context) error {
	limit, err := limitQuery(c, 250)
	if err != nil {
		return err
	}
	cursor := c.Query("cursor")
	if cursor != "" && !eventTypePattern.MatchString(cursor) {
		return queryError("cursor", "is not a cursor this list returned")
	}
	ts, err := a.store.ListEventTypes(c.Request.Context(), cursor, limit+1)
	if err != nil {
		return err
	}
	listPage(c, ts, limit, func(t models.EventType) string { return t.Name },
		func(t *models.EventType) any { return toEventTypeJSON(t) })
	return nil
}

// createEventType: POST /v1/event-types {"name","description","schema"}.
// When a schema is given, events of the type are validated against it at
// ingest (JSON Schema, draft 2020-12 unless the schema says otherwise).
func (a *API) createEventType(c *gin.Context) error {
	var req struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Schema      json.RawMessage `json:"schema"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Name == "" {
		return invalid("name", "is required")
	}
	if len(req.Name) > 255 || !eventTypePattern.MatchString(req.Name) {
		return invalid("name", "must be dot-separated words of letters, digits, '_', '-' or ':', like \"lead.created\"")
	}
	if len(req.Description) > 1024 {
		return invalid("description", "at most 1024 bytes")
	}
	schema := bytes.TrimSpace(req.Schema)
	if bytes.Equal(schema, []byte("null")) {
		schema = nil
	}
	if len(schema) > 0 {
		var compact bytes.Buffer
		if err := json.Compact(&compact, schema); err != nil {
			return invalid("schema", "is not valid JSON")
		}
		schema = compact.Bytes()
		if _, err := compileSchema(req.Name, schema); err != nil {
			return invalid("schema", "is not a valid JSON Schema: %s", firstLine(err))
		}
	}
	now := a.now().UTC()
	t := &models.EventType{Name: req.Name, Description: req.Description, Schema: string(schema), CreatedAt: now, UpdatedAt: now}
	if err := a.store.CreateEventType(c.Request.Context(), t); err != nil {
		if errors.Is(err, models.ErrExists) {
			return &Error{Status: http.StatusConflict, Code: CodeConflict, Field: "name", Message: "event type " + req.Name + " already exists"}
		}
		return err
	}
	c.JSON(http.StatusCreated, toEventTypeJSON(t))
	return nil
}

// loadPreset: POST /v1/event-types/presets/{profile} (no body, or {}) adds the
// event catalog of the vendor whose webhooks the profile reproduces (vessel:
// Vessel's, salesos: SalesOS's, …); types already present are kept as they are.
func (a *API) loadPreset(c *gin.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	name := c.Param("profile")
	preset, ok := profile.Presets()[name]
	if !ok {
		var names []string
		for n := range profile.Presets() {
			names = append(names, n)
		}
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Field: "profile",
			Message: fmt.Sprintf("no preset %q (presets: %s)", name, strings.Join(sortedStrings(names), ", "))}
	}
	now := a.now().UTC()
	ts := make([]models.EventType, len(preset))
	for i, p := range preset {
		ts[i] = models.EventType{Name: p.Name, Description: p.Description, CreatedAt: now, UpdatedAt: now}
	}
	added, err := a.store.AddEventTypes(c.Request.Context(), ts)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"preset": name, "event_types": len(ts), "added": added})
	return nil
}

// checkSchema validates a payload against its type's catalog schema, if any.
func (a *API) checkSchema(ctx context.Context, eventType string, payload []byte) error {
	t, err := a.store.GetEventType(ctx, eventType)
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

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}
