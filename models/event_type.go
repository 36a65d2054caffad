package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// EventType is an entry of the event-type catalog, optionally with a JSON
// Schema that events of the type are validated against at ingest.
type EventType struct {
	Name        string `gorm:"primaryKey;size:255"`
	Description string `gorm:"size:1024;not null;default:''"`
	Schema      string `gorm:"type:text;not null;default:''"` // a JSON Schema document, or ""
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ErrExists is returned when creating something whose key is taken.
var ErrExists = errors.New("already exists")

// CreateEventType adds t to the catalog; ErrExists if the name is taken.
func (s *Store) CreateEventType(ctx context.Context, t *EventType) error {
	err := s.db.WithContext(ctx).Create(t).Error
	if err != nil && isUniqueViolation(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("create event type %s: %w", t.Name, err)
	}
	return nil
}

// AddEventTypes adds the types that are not in the catalog yet and leaves
// existing ones alone; it returns how many were added.
func (s *Store) AddEventTypes(ctx context.Context, ts []EventType) (int64, error) {
	if len(ts) == 0 {
		return 0, nil
	}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&ts)
	if res.Error != nil {
		return 0, fmt.Errorf("add event types: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// UpsertEventTypes adds the types, or sets the description and schema of
// those already in the catalog: hookd's own types are kept as hookd defines them.
func (s *Store) UpsertEventTypes(ctx context.Context, ts []EventType) error {
	if len(ts) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"description", "schema", "updated_at"}),
	}).Create(&ts).Error
	if err != nil {
		return fmt.Errorf("upsert event types: %w", err)
	}
	return nil
}

// GetEventType loads one catalog entry; ErrNotFound if the type is not listed.
func (s *Store) GetEventType(ctx context.Context, name string) (*EventType, error) {
	var t EventType
	err := s.db.WithContext(ctx).Take(&t, "name = ?", name).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load event type %s: %w", name, err)
	}
	return &t, nil
}

// ListEventTypes returns the catalog by name, names greater than after.
func (s *Store) ListEventTypes(ctx context.Context, after string, limit int) ([]EventType, error) {
	var out []EventType
	err := s.db.WithContext(ctx).Where("name > ?", after).Order("name").Limit(max(limit, 1)).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	return out, nil
}
