// Package store keeps what must outlive a connection: chats and their
// threads of messages (the main thread and one per child agent,
// "<chatId>::child::<agent>"). The Store interface is what the rest of the
// program uses; Memory is the in-process engine used by tests and the demo.
package store
