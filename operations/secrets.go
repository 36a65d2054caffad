package operations

import (
	"context"
	"time"

	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/profile"
)

// EndpointSecret is an endpoint's signing secret and the rotated-out ones
// still signing during their grace period.
type EndpointSecret struct {
	EndpointID string
	Current    string
	Previous   []string // never nil
}

// RevealSecret is the explicit read of an endpoint's signing secret.
func (o *Ops) RevealSecret(ctx context.Context, id string) (EndpointSecret, error) {
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return EndpointSecret{}, err
	}
	current, previous := ep.Keys(o.now())
	if previous == nil {
		previous = []string{}
	}
	return EndpointSecret{EndpointID: ep.ID, Current: current, Previous: previous}, nil
}

// MaxGrace bounds how long a rotated-out secret keeps signing.
const MaxGrace = 7 * 24 * time.Hour

// DefaultGrace is the grace period of a rotation that names none.
const DefaultGrace = 24 * time.Hour

// RotateInput is a secret rotation: the new secret (made by the profile
// when absent) and the grace period (a duration, DefaultGrace when absent).
type RotateInput struct {
	Secret      *string `json:"secret"`
	GracePeriod *string `json:"grace_period"`
}

// RotateSecret makes a new secret sign at once; during the grace period the
// standard profile also signs with the old one, so receivers can switch.
// The returned endpoint holds the new secret.
func (o *Ops) RotateSecret(ctx context.Context, id string, in RotateInput) (*models.Endpoint, error) {
	grace := DefaultGrace
	if in.GracePeriod != nil {
		d, err := time.ParseDuration(*in.GracePeriod)
		if err != nil || d < 0 || d > MaxGrace {
			return nil, invalid("grace_period", "must be a duration from 0s to 168h, like \"24h\"")
		}
		grace = d
	}
	ep, err := o.GetEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := profile.Lookup(ep.Profile)
	if err != nil {
		return nil, err
	}
	var next string
	if in.Secret != nil {
		if err := p.ValidateSecret(*in.Secret); err != nil {
			return nil, invalid("secret", "%s", err)
		}
		next = *in.Secret
	} else if next, err = p.NewSecret(); err != nil {
		return nil, err
	}
	rotated, err := o.store.RotateSecret(ctx, ep.ID, next, grace, o.now())
	if err != nil {
		return nil, storeError(err, "endpoint", ep.ID)
	}
	o.log.Info("endpoint.secret_rotated", "endpoint_id", ep.ID, "grace_period", grace.String())
	return rotated, nil
}
