// Package models is hookd's storage: the endpoint, event, delivery and attempt
// records, their migrations, and the queries the API and the activities run.
//
// The same code runs on PostgreSQL (production) and on an embedded SQLite file
// (the zero-setup default); Open picks the driver from the DSN.
package models
