package demo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// notes is the demo's OAuth-protected MCP server: each user has their own
// notes, so two users signed in to the same agent see that their data (and
// tokens) never mix.
type notes struct {
	mu     sync.Mutex
	byUser map[string][]string
}

// NoteInput is the input of addNote.
type NoteInput struct {
	Text string `json:"text" jsonschema:"the note to keep"`
}

// NotesHandler serves the notes MCP server at <base>/mcp, protected by as:
// its protected-resource metadata is at
// <base>/.well-known/oauth-protected-resource/mcp and every MCP request
// needs a token for <base>/mcp with the demo scopes.
func NotesHandler(as *AuthServer, base string) http.Handler {
	n := &notes{byUser: map[string][]string{}}
	s := mcp.NewServer(&mcp.Implementation{Name: "demo-notes", Version: "v1"}, nil)
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true}
	mcp.AddTool(s, &mcp.Tool{Name: "whoami", Description: "Tell who the notes server thinks the user is.", Annotations: readOnly},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			return text("You are signed in to the notes server as " + user(ctx) + "."), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "listNotes", Description: "List the user's notes.", Annotations: readOnly},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			n.mu.Lock()
			list := append([]string(nil), n.byUser[user(ctx)]...)
			n.mu.Unlock()
			if len(list) == 0 {
				return text(user(ctx) + " has no notes yet."), nil, nil
			}
			return text(fmt.Sprintf("Notes of %s:\n- %s", user(ctx), strings.Join(list, "\n- "))), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "addNote", Description: "Keep a note for the user."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in NoteInput) (*mcp.CallToolResult, any, error) {
			n.mu.Lock()
			n.byUser[user(ctx)] = append(n.byUser[user(ctx)], in.Text)
			n.mu.Unlock()
			return text(fmt.Sprintf("Kept the note %q for %s.", in.Text, user(ctx))), nil, nil
		})
	// forgetNotes changes things and says so (destructiveHint): the OAUTH2
	// notes agent asks the user before it runs, showing the call.
	destructive := true
	mcp.AddTool(s, &mcp.Tool{Name: "forgetNotes", Description: "Forget all the user's notes.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: &destructive}},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			n.mu.Lock()
			k := len(n.byUser[user(ctx)])
			delete(n.byUser, user(ctx))
			n.mu.Unlock()
			return text(fmt.Sprintf("Forgot %d note(s) of %s.", k, user(ctx))), nil, nil
		})
	resource := base + "/mcp"
	prm := base + "/.well-known/oauth-protected-resource/mcp"
	mux := http.NewServeMux()
	mux.Handle("/.well-known/oauth-protected-resource/mcp", auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource: resource, AuthorizationServers: []string{as.issuer}, ScopesSupported: DemoScopes(),
	}))
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	mux.Handle("/mcp", auth.RequireBearerToken(as.Verifier(resource), &auth.RequireBearerTokenOptions{
		ResourceMetadataURL: prm, Scopes: DemoScopes(),
	})(mcpHandler))
	return mux
}

func user(ctx context.Context) string {
	if ti := auth.TokenInfoFromContext(ctx); ti != nil && ti.UserID != "" {
		return ti.UserID
	}
	return "someone"
}
