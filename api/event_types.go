package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
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
	if cursor != "" && !operations.IsEventType(cursor) {
		return queryError("cursor", "is not a cursor this list returned")
	}
	ts, err := a.ops.ListEventTypes(c.Request.Context(), cursor, limit+1)
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
	var in operations.EventTypeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	t, err := a.ops.CreateEventType(c.Request.Context(), in)
	if err != nil {
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
	p, err := a.ops.LoadPreset(c.Request.Context(), c.Param("profile"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"preset": p.Preset, "event_types": p.EventTypes, "added": p.Added})
	return nil
}
