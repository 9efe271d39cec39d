package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/rancher/ai-agent/internal/chat/chattest"
)

// TestReplicasSeeEachOthersTurns: one chat open on replica A and on
// replica B at once (two tabs behind a load balancer). A session keeps its
// thread in memory, so each turn's model request must still carry the
// turns the other replica added: its sequence-number check reloads them.
// The scripted model counts a request's words as its input tokens, so the
// growth of the chat's input usage tells what each request carried.
func TestReplicasSeeEachOthersTurns(t *testing.T) {
	a, b := clusterReplicas(t)
	id := uuid.NewString()
	ws := map[string]*chattest.Client{a: repDial(t, a, "/v1/ws/messages/"+id, "alice"), b: repDial(t, b, "/v1/ws/messages/"+id, "alice")}
	for _, c := range ws {
		c.Metadata()
	}
	input := func() int {
		var chat struct {
			Usage struct {
				ByAgent map[string]struct{ InputTokens int }
			}
		}
		code, body := repDo(t, "GET", a+"/v1/api/chats/"+id, "alice", "")
		if code != 200 || json.Unmarshal([]byte(body), &chat) != nil {
			t.Fatalf("chat on A = %d %s", code, body)
		}
		return chat.Usage.ByAgent["cluster"].InputTokens
	}
	// Each turn adds a two-word prompt and a one-word answer, so a request
	// that carries every earlier turn has 3 words more than the one before.
	var deltas []int
	before := 0
	for i, base := range []string{a, b, a, b} {
		if code, body := repDo(t, "POST", base+"/v1/control/push", "", `{"text":{"chunks":["answer"]}}`); code != 204 {
			t.Fatalf("push: %d %s", code, body)
		}
		ws[base].Send(fmt.Sprintf(`{"prompt":"question %d","context":{}}`, i))
		if got := strings.Join(ws[base].Until("</message>"), "|"); got != "<message>|answer|</message>" {
			t.Fatalf("turn %d = %s", i, got)
		}
		now := input()
		deltas = append(deltas, now-before)
		before = now
	}
	for i := 1; i < len(deltas); i++ {
		if deltas[i]-deltas[i-1] != 3 {
			t.Fatalf("input words per turn = %v, want each 3 more than the last (every turn in every request)", deltas)
		}
	}
}
