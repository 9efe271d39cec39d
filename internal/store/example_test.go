package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

// A chat as every engine keeps it (the suite in storetest runs the same
// calls on memory, SQLite and PostgreSQL): a chat owned by one user, its
// thread of messages appended turn by turn, read back after a restart. A
// supervisor's delegation keeps the child's messages on a thread of its own.
func ExampleOpenSQLite() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ai-agent.db")
	ctx := context.Background()
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

	db, err := store.OpenSQLite(ctx, path)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := db.OpenChat(ctx, "chat-1", "alice"); err != nil {
		fmt.Println(err)
		return
	}
	_, err = db.Append(ctx, "chat-1",
		store.Message{Message: llm.Message{Role: llm.RoleUser, Content: "list the pods"}, CreatedAt: at},
		store.Message{Message: llm.Message{Role: llm.RoleAssistant, Content: "web-1 and web-2."}, Agent: "cluster", CreatedAt: at},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = db.Append(ctx, store.ChildThread("chat-1", "cluster"),
		store.Message{Message: llm.Message{Role: llm.RoleUser, Content: "pods in default"}, CreatedAt: at})
	_ = db.Close()

	db, err = store.OpenSQLite(ctx, path) // a restart
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	msgs, _ := db.Messages(ctx, "chat-1")
	for _, m := range msgs {
		fmt.Printf("%s: %s\n", m.Role, m.Content)
	}
	_, err = db.Chat(ctx, "chat-1", "bob")
	fmt.Println("bob reads alice's chat:", err == nil)
	// Output:
	// user: list the pods
	// assistant: web-1 and web-2.
	// bob reads alice's chat: false
}
