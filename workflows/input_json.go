package workflows

import (
	"encoding/json"
	"time"

	"github.com/hookd/hookd/activities"
)

// deliveryInputJSON is DeliveryInput as it is written into history: the
// schedule and the attempt timeout as duration strings ("1m", "30s"), so
// a delivery's input reads as what it is in the Temporal UI.
type deliveryInputJSON struct {
	plainDeliveryInput
	Schedule       []activities.Duration
	AttemptTimeout activities.Duration
}

type plainDeliveryInput DeliveryInput

// MarshalJSON writes the durations as strings like "5m".
func (in DeliveryInput) MarshalJSON() ([]byte, error) {
	return json.Marshal(deliveryInputJSON{plainDeliveryInput(in), activities.Durations(in.Schedule), activities.Duration(in.AttemptTimeout)})
}

// UnmarshalJSON reads what MarshalJSON writes, and the numeric form of
// histories written before it.
func (in *DeliveryInput) UnmarshalJSON(b []byte) error {
	var v deliveryInputJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*in = DeliveryInput(v.plainDeliveryInput)
	in.Schedule = activities.TimeDurations(v.Schedule)
	in.AttemptTimeout = time.Duration(v.AttemptTimeout)
	return nil
}
