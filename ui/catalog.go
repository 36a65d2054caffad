package ui

import (
	"encoding/json"
	"net/http"

	"github.com/hookd/hookd/models"
)

// catalogEntry is an event type as the catalog page shows it.
type catalogEntry struct {
	models.EventType
	// Example is a payload of the type: the schema's own example, else the
	// latest event of the type the viewer may see, else one made from the
	// schema's properties ("" when there is none of these).
	Example string
	// ExampleSource says where Example comes from.
	ExampleSource string
}

// catalog: GET /ui/event-types — each type with its JSON Schema and an example payload.
func (s *Server) catalog(w http.ResponseWriter, r *http.Request, v *viewer) error {
	types, err := s.ops.ListEventTypes(r.Context(), "", 250)
	if err != nil {
		return err
	}
	entries := make([]catalogEntry, len(types))
	for i, t := range types {
		entries[i] = catalogEntry{EventType: t}
		if ex, ok := schemaExample([]byte(t.Schema)); ok {
			entries[i].Example, entries[i].ExampleSource = ex, "from the schema"
			continue
		}
		evs, err := s.ops.ListEvents(r.Context(), models.EventFilter{TenantID: tenantFilter(v, ""), Type: t.Name, Limit: 1})
		if err != nil {
			return err
		}
		if len(evs) == 1 {
			entries[i].Example, entries[i].ExampleSource = evs[0].Payload, "the latest event "+evs[0].ID
		}
	}
	s.render(w, r, http.StatusOK, "event_types", v, map[string]any{"Title": "Event types", "Types": entries})
	return nil
}

// schemaExample is an example payload of a JSON Schema: its first
// "examples" entry, or one built from its properties; false if it has neither.
func schemaExample(schema []byte) (string, bool) {
	var doc map[string]any
	if len(schema) == 0 || json.Unmarshal(schema, &doc) != nil {
		return "", false
	}
	if exs, ok := doc["examples"].([]any); ok && len(exs) > 0 {
		b, err := json.Marshal(exs[0])
		return string(b), err == nil
	}
	if _, ok := doc["properties"].(map[string]any); !ok {
		return "", false
	}
	b, err := json.Marshal(exampleOf(doc, 0))
	return string(b), err == nil
}

// exampleOf makes a value that fits a (sub)schema: its example, default,
// const or first enum value, else a placeholder of its type.
func exampleOf(s map[string]any, depth int) any {
	for _, k := range []string{"example", "default", "const"} {
		if v, ok := s[k]; ok {
			return v
		}
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	typ, _ := s["type"].(string)
	switch {
	case typ == "object" || s["properties"] != nil:
		out := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			if sub, ok := p.(map[string]any); ok && depth < 5 {
				out[name] = exampleOf(sub, depth+1)
			}
		}
		return out
	case typ == "array":
		if items, ok := s["items"].(map[string]any); ok && depth < 5 {
			return []any{exampleOf(items, depth+1)}
		}
		return []any{}
	}
	return map[string]any{"string": "string", "integer": 0, "number": 0, "boolean": false, "null": nil}[typ]
}
