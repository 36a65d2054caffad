package ui

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/hookd/hookd/config"
	"github.com/hookd/hookd/models"
	"github.com/hookd/hookd/operations"
)

// endpointForm is the endpoint form as typed: text, turned into an
// operations.EndpointInput by input, which the operation then validates as
// it validates the API's JSON.
type endpointForm struct {
	ID             string // "" when creating
	TenantID       string
	URL            string
	Description    string
	Profile        string
	EventTypes     []string // the filters picked from the catalog, and typed ones
	MoreEventTypes string   // filters typed in, comma-separated (wildcards like lead.*)
	Headers        string   // one "Name: value" a line
	RetrySchedule  string   // durations, comma-separated
	Timeout        string
	PauseThreshold string
	// SendTraceparent is the checkbox: send each attempt's traceparent.
	SendTraceparent bool
}

// readEndpointForm reads the form of a POST.
func readEndpointForm(r *http.Request) endpointForm {
	_ = r.ParseForm() // a body over the limit leaves the form empty, which the operation refuses
	f := r.PostForm
	return endpointForm{
		TenantID: strings.TrimSpace(f.Get("tenant_id")), URL: strings.TrimSpace(f.Get("url")),
		Description: f.Get("description"), Profile: f.Get("profile"), EventTypes: f["event_types"],
		MoreEventTypes: f.Get("more_event_types"), Headers: f.Get("headers"), RetrySchedule: f.Get("retry_schedule"),
		Timeout: strings.TrimSpace(f.Get("timeout")), PauseThreshold: strings.TrimSpace(f.Get("pause_threshold")),
		SendTraceparent: f.Get("send_traceparent") != "",
	}
}

// formOf is the form of an existing endpoint, for editing it. Secret header
// values show as models.RedactedValue, which an update keeps as they are.
func formOf(ep *models.Endpoint) endpointForm {
	var headers []string
	for name, value := range ep.RedactHeaders(ep.Headers) {
		headers = append(headers, name+": "+value)
	}
	slices.Sort(headers)
	var schedule []string
	for _, d := range ep.RetrySchedule {
		schedule = append(schedule, models.FormatDuration(d))
	}
	return endpointForm{ID: ep.ID, TenantID: ep.TenantID, URL: ep.URL, Description: ep.Description, Profile: ep.Profile,
		EventTypes: ep.EventTypes, Headers: strings.Join(headers, "\n"), RetrySchedule: strings.Join(schedule, ", "),
		Timeout: models.FormatDuration(ep.Timeout()), PauseThreshold: strconv.Itoa(ep.PauseThreshold),
		SendTraceparent: ep.SendTraceparent}
}

// Picked reports whether the filter name is among the form's event types.
func (f endpointForm) Picked(name string) bool { return slices.Contains(f.EventTypes, name) }

// input is the operation's input of the form. Creating, blank fields are
// left out (the operation's defaults apply); editing, every field is given
// except a blank schedule, timeout or threshold, which stay as they are (an
// unchecked box is false: a browser sends nothing for it).
func (f endpointForm) input(creating bool) (operations.EndpointInput, error) {
	in := operations.EndpointInput{URL: &f.URL, Description: &f.Description}
	if creating {
		in.TenantID = &f.TenantID
	}
	if f.Profile != "" {
		in.Profile = &f.Profile
	}
	in.EventTypes = f.eventTypes()
	headers, err := parseHeaders(f.Headers)
	if err != nil {
		return in, err
	}
	if len(headers) > 0 || !creating {
		in.Headers = headers
	}
	if s := config.List(f.RetrySchedule); len(s) > 0 {
		in.RetrySchedule = s
	}
	if f.Timeout != "" {
		in.Timeout = &f.Timeout
	}
	if f.PauseThreshold != "" {
		n, err := strconv.Atoi(f.PauseThreshold)
		if err != nil {
			return in, formInvalid("pause_threshold", "must be a whole number")
		}
		in.PauseThreshold = &n
	}
	if f.SendTraceparent || !creating {
		in.SendTraceparent = &f.SendTraceparent
	}
	return in, nil
}

// eventTypes are the picked and typed filters; none picked means every event ("*").
func (f endpointForm) eventTypes() []string {
	out := []string{}
	for _, t := range append(slices.Clone(f.EventTypes), config.List(f.MoreEventTypes)...) {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return []string{"*"}
	}
	return out
}

// parseHeaders reads "Name: value" lines; blank lines are skipped.
func parseHeaders(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, formInvalid("headers", fmt.Sprintf("line %d is not \"Name: value\"", i+1))
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return out, nil
}

// formInvalid is a form field that cannot even be read into the operation's
// input, refused the way the operation refuses a field.
func formInvalid(field, msg string) *operations.Error {
	return &operations.Error{Kind: operations.Invalid, Field: field, Message: field + ": " + msg}
}

// fieldErrors maps a refusal to the form field it names ("" for the form
// as a whole): "headers.X-Token" is shown beside "headers".
func fieldErrors(e *operations.Error) map[string]string {
	if e == nil {
		return nil
	}
	field, _, _ := strings.Cut(e.Field, ".")
	field, _, _ = strings.Cut(field, "[")
	return map[string]string{field: e.Message}
}
