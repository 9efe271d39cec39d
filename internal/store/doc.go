// Package store keeps what must outlive a connection: chats and their
// threads of messages (the main thread and one per child agent,
// "<chatId>::child::<agent>"), and the OAuth state. The Store interface is
// what the rest of the program uses; Memory is the in-process engine used
// by tests and the demo, SQL serves SQLite and PostgreSQL.
//
// Messages of a thread are numbered 1, 2, ... (Append returns the number,
// Seq reads it): a session that keeps a copy of a thread checks the number
// instead of reading the thread, and reads only what it missed
// (MessagesAfter). The SQL engines store a message as the versioned JSON
// record of record.go, the store's own type, never the model's (written by
// record_encode.go). On SQLite, concurrent Appends share one transaction
// (group commit, group.go).
package store
