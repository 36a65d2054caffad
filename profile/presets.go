package profile

// PresetType is one event type a vendor documents, for loading into hookd's
// event-type catalog.
type PresetType struct {
	Name        string
	Description string
}

// Cataloged is implemented by a profile whose vendor documents an event
// catalog. The catalog lives in the profile's own file, next to its Register
// call, so a new profile brings its preset with it.
type Cataloged interface {
	Profile
	// EventCatalog returns the vendor's event types in the vendor's order.
	// Callers must not modify it; Presets hands out copies.
	EventCatalog() []PresetType
}

// Presets returns the event catalogs of the registered profiles that have one
// (see Cataloged), keyed by profile name. The standard profile has none: its
// event types are the sender's own. Each call returns a fresh copy.
func Presets() map[string][]PresetType {
	registry.RLock()
	defer registry.RUnlock()
	out := map[string][]PresetType{}
	for name, p := range registry.byName {
		if c, ok := p.(Cataloged); ok {
			out[name] = append([]PresetType(nil), c.EventCatalog()...)
		}
	}
	return out
}

// PresetNames returns the names of the profiles that have a preset, sorted.
func PresetNames() []string {
	var names []string
	for _, name := range Names() {
		p, _ := Lookup(name)
		if _, ok := p.(Cataloged); ok {
			names = append(names, name)
		}
	}
	return names
}
