package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/oauth"
)

// TestOAuthAgentErrors: the adapter gives package agent one cancel sentinel
// and the user's sentence for failures only package oauth knows.
func TestOAuthAgentErrors(t *testing.T) {
	canceled := agentError("notes", fmt.Errorf("sign-in: %w", oauth.ErrCanceled))
	if !errors.Is(canceled, agent.ErrAuthCanceled) || !errors.Is(canceled, oauth.ErrCanceled) {
		t.Fatalf("cancel: %v", canceled)
	}
	for _, cause := range []error{oauth.ErrSignInIncomplete, oauth.ErrBadSecret} {
		err := agentError("notes", fmt.Errorf("x: %w", cause))
		se, ok := errors.AsType[*agent.SignInError](err)
		if !ok || !strings.Contains(se.Sentence(), `"notes"`) || !errors.Is(err, cause) {
			t.Fatalf("%v: %v", cause, err)
		}
	}
	if agentError("notes", nil) != nil {
		t.Fatal("nil error mapped to an error")
	}
}
