// Package storetest is the conformance suite every store engine passes:
// the same behaviour on memory, SQLite and PostgreSQL is what lets tests
// use memory while production uses a database. Paired is the check, for
// tests above the store, that a thread has no dangling tool call.
package storetest
