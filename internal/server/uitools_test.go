package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/uitools"
)

const uiToolsDoc = `{"config":{"systemPrompt":"Pick UI tools.","enabled":true,"maxTools":2},
"tools":[{"name":"suggestions","description":"Suggest follow-ups","category":"suggestions","enabled":true,
"schema":{"properties":{"suggestion1":{"type":"string"}}}},
{"name":"explore","description":"Open a page","enabled":true,"schema":{"properties":{"route":{"type":"string"}}}}]}`

func TestUIToolsAfterTheAnswer(t *testing.T) {
	ms := startMath(t)
	e := newEnv(t, newAgent("math", ms.url()))
	doc, err := uitools.Parse([]byte(uiToolsDoc))
	if err != nil {
		t.Fatal(err)
	}
	e.uiTools.Set(doc)
	c := e.dial("/v1/ws/messages", "tok-alice")
	c.Metadata()

	// Without `tools` in the prompt there is no selection call.
	e.model.Push(llm.TextEntry("plain"))
	c.Send(prompt("hi"))
	equalFrames(t, c.Turn(), []string{"<message>", "plain", "</message>"})

	e.model.Push(llm.TextEntry("answer"), call("suggestions", `{"suggestion1":"list pods"}`))
	c.Send(prompt("hi", `"tools":{"name":"rancher-ai-ui","tools":["suggestions"]}`, `"context":{}`))
	equalFrames(t, c.Turn(), []string{"<message>", "answer", "<processing-ui-tools/>",
		`<ui-tools>[{"toolName":"suggestions","input":{"suggestion1":"list pods"}}]</ui-tools>`, "</message>"})
	reqs := e.model.Requests()
	sel := reqs[len(reqs)-1]
	if sel.Purpose != "ui-tools" || len(sel.Tools) != 1 || sel.Tools[0].Name != "suggestions" ||
		!strings.Contains(string(sel.Tools[0].InputSchema), `"type":"object"`) || !strings.Contains(sel.Messages[1].Content, "answer") {
		t.Fatalf("selection request %+v", sel)
	}

	// History keeps the picks with the answer.
	hreq, _ := http.NewRequest(http.MethodGet, e.http.URL+"/v1/api/chats/"+chatIDOf(t, e, "u-alice")+"/messages", nil)
	hreq.Header.Set("Cookie", "R_SESS=tok-alice")
	hresp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(hresp.Body)
	hresp.Body.Close()
	if !strings.Contains(string(hb), `"tools":[{"toolName":"suggestions","input":{"suggestion1":"list pods"}}]`) {
		t.Fatalf("history %s", hb)
	}

	// The welcome completion endpoint.
	e.model.Push(call("suggestions", `{"suggestion1":"a"}`))
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/v1/api/complete/ui-tools",
		strings.NewReader(`{"prompt":"Welcome","context":[{"tag":"cluster","value":"local"}],"tools":{"name":"rancher-ai-ui","tools":["suggestions"]}}`))
	req.Header.Set("Cookie", "R_SESS=tok-alice")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `[{"toolName":"suggestions","input":{"suggestion1":"a"}}]` {
		t.Fatalf("complete: %d %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest(http.MethodPost, e.http.URL+"/v1/api/complete/ui-tools", strings.NewReader(`{"prompt":"x"}`))
	req.Header.Set("Cookie", "R_SESS=tok-alice")
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("missing tools.name: %d", resp.StatusCode)
	}
}

// chatIDOf returns the id of the user's only chat.
func chatIDOf(t *testing.T, e *env, user string) string {
	t.Helper()
	chats, err := e.store.ListChats(context.Background(), user, false)
	if err != nil || len(chats) != 1 {
		t.Fatalf("chats %v %v", chats, err)
	}
	return chats[0].ID
}
