package profile

// PresetType is one event type a vendor documents, for loading into hookd's
// event-type catalog.
type PresetType struct {
	Name        string
	Description string
}

// Presets returns the event catalogs of the seeds, keyed by profile name.
// The standard profile has none: its event types are the sender's own.
// Each call returns a fresh copy.
func Presets() map[string][]PresetType {
	out := make(map[string][]PresetType, len(presets))
	for name, types := range presets {
		out[name] = append([]PresetType(nil), types...)
	}
	return out
}

var presets = map[string][]PresetType{
	// Seed 000.
	"vessel": {
		{"OBJECT_CHANGE", "An object was created, updated or deleted; data.objectType is one of Contact, Account, Deal, Lead, User, Note, Task, Event, EventAttendee, Email and data.eventType one of CREATE, UPDATE, DELETE"},
		{"STATUS_CHANGE", "The connection's status changed; data.status is one of NEW_CONNECTION, INITIAL_SYNCED, READY"},
	},
	// Seed 001, with its descriptions.
	"salesos": {
		{"lead.created", "A new lead was created"},
		{"lead.updated", "A lead was updated"},
		{"lead.deleted", "A lead was deleted"},
		{"lead.converted", "A lead was converted to contact/opportunity"},
		{"contact.created", "A new contact was created"},
		{"contact.updated", "A contact was updated"},
		{"account.created", "A new account was created"},
		{"account.updated", "An account was updated"},
		{"opportunity.created", "A new opportunity was created"},
		{"opportunity.updated", "An opportunity was updated"},
		{"opportunity.won", "An opportunity was marked as won"},
		{"opportunity.lost", "An opportunity was marked as lost"},
		{"quote.created", "A new quote was created"},
		{"quote.approved", "A quote was approved"},
		{"quote.sent", "A quote was sent to the customer"},
		{"order.created", "A new order was created"},
		{"order.completed", "An order was completed"},
		{"meeting.scheduled", "A meeting was scheduled"},
		{"meeting.completed", "A meeting was completed"},
		{"task.completed", "A task was completed"},
	},
	// Seed 002, with its descriptions.
	"apideck": {
		{"vault.connection.created", "Event broadcast when a connection has been created."},
		{"vault.connection.updated", "Event broadcast when a connection has been updated."},
		{"vault.connection.disabled", "Event broadcast when a connection has been disabled."},
		{"vault.connection.deleted", "Event broadcast when a connection has been deleted."},
		{"vault.connection.callable", "Event broadcast when a connection is now callable."},
		{"vault.connection.revoked", "Event broadcast when a connection has been revoked."},
		{"vault.connection.token_refresh.failed", "Event broadcast when a connection token refresh has failed."},
		{"vault.connection.token_refresh.pending", "Event broadcast when a connection has been token refresh pending."},
		{"vault.connection.token_refresh.recovered", "Event broadcast when a connection has been token refresh recovered."},
	},
	// Seed 003 lists names by group only; the descriptions say what each name means.
	"inline-secret": {
		{"lead.create", "Lead event: a lead was created"},
		{"lead.update", "Lead event: a lead was updated"},
		{"lead.delete", "Lead event: a lead was deleted"},
		{"lead.status.update", "Lead activity: a lead's status was updated"},
		{"lead.list.update", "Lead activity: a lead's list was updated"},
		{"lead.tags.update", "Lead activity: a lead's tags were updated"},
		{"lead.track", "Lead activity: a lead was tracked"},
		{"lead.task.create", "Lead activity: a task was created on a lead"},
		{"lead.task.update", "Lead activity: a task on a lead was updated"},
		{"lead.task.delete", "Lead activity: a task on a lead was deleted"},
		{"lead.note.create", "Lead activity: a note was created on a lead"},
		{"lead.note.update", "Lead activity: a note on a lead was updated"},
		{"lead.note.delete", "Lead activity: a note on a lead was deleted"},
		{"lead.linkedin.new", "Lead message: a new LinkedIn message from a lead"},
		{"lead.twitter.new", "Lead message: a new Twitter message from a lead"},
		{"lead.email.new", "Lead message: a new email from a lead"},
		{"campaign.create", "Campaign event: a campaign was created"},
		{"campaign.update", "Campaign event: a campaign was updated"},
		{"campaign.delete", "Campaign event: a campaign was deleted"},
		{"campaign.email.sent", "Campaign email: an email was sent"},
		{"campaign.email.reply", "Campaign email: an email was replied to"},
		{"campaign.email.open", "Campaign email: an email was opened"},
		{"campaign.email.click", "Campaign email: a link in an email was clicked"},
		{"campaign.email.bounce", "Campaign email: an email bounced"},
		{"campaign.email.unsubscribe", "Campaign email: a recipient unsubscribed"},
		{"list.create", "List event: a list was created"},
		{"list.update", "List event: a list was updated"},
		{"list.delete", "List event: a list was deleted"},
		{"status.create", "Status event: a status was created"},
		{"status.update", "Status event: a status was updated"},
		{"status.delete", "Status event: a status was deleted"},
		{"tag.create", "Tag event: a tag was created"},
		{"tag.update", "Tag event: a tag was updated"},
		{"tag.delete", "Tag event: a tag was deleted"},
	},
}
