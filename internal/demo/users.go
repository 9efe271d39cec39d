package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/rancher/ai-agent/internal/agentconfig"
)

// The demo has no Rancher to say who the user is: the page says it with a
// cookie, so that two browsers (or two browser contexts) are two users with
// their own chats, sign-ins and notes. There is no password: it is a demo.
const (
	// UserCookie names the demo user of a browser; the page sets it.
	UserCookie = "demo_user"
	// DefaultUser is the user of a browser without the cookie.
	DefaultUser = "demo-user"
)

// ErrBadUser is matched when the demo user cookie is not a valid name.
var ErrBadUser = errors.New("demo user must be 1 to 32 lower-case letters, digits, '.', '_' or '-'")

var userName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// User is the demo user of a request: the UserCookie value, or DefaultUser
// when there is none. A malformed name is an error, not a silent fallback,
// so a typo never lands in another user's chats.
func User(r *http.Request) (string, error) {
	c, err := r.Cookie(UserCookie)
	if err != nil || c.Value == "" {
		return DefaultUser, nil
	}
	if !userName.MatchString(c.Value) {
		return "", fmt.Errorf("cookie %s: %w", UserCookie, ErrBadUser)
	}
	return c.Value, nil
}

// agentInfo is what the page shows of an agent in its picker: the fields
// the Rancher UI reads from the AIAgentConfig through Steve (ui-protocol
// §5.1), which the demo has no Steve to serve.
type agentInfo struct {
	Name               string `json:"name"`
	DisplayName        string `json:"displayName"`
	Description        string `json:"description"`
	AuthenticationType string `json:"authenticationType"`
}

// AgentsHandler serves the demo's agents as the page's picker reads them
// (GET, JSON list). Status is not here: it comes from <chat-metadata>.
func AgentsHandler(list ...agentconfig.Agent) http.Handler {
	out := make([]agentInfo, len(list))
	for i, a := range list {
		out[i] = agentInfo{Name: a.Name, DisplayName: a.Spec.DisplayName, Description: a.Spec.Description,
			AuthenticationType: string(a.Spec.AuthenticationType)}
	}
	body, err := json.Marshal(out)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
}
