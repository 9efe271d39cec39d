package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/chat/chattest"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
)

// The interop matrix (README, "Interoperability"): the seed's sign-in through
// `serve` and a real chat WebSocket against MCP servers and authorization
// servers that nobody here wrote. Every MCP server × authorization server
// pair runs the same five cases, in order, on one serve:
//
//   - eager sign-in: alice opens a chat; the only agent asks her to sign in
//     at once (<authentication>), the popup is completed at the provider.
//   - tool call: a turn's whoami reaches the server as alice.
//   - silent refresh: the token expires (the agent's clock moves past it)
//     twice; each turn refreshes once, without a sign-in (with rotating
//     refresh tokens the second refresh proves the rotated one was kept).
//   - revoked: every grant is revoked at the provider; the next turn asks
//     for exactly one new sign-in and then answers.
//   - second user: bob must sign in himself, his call is bob's, and alice's
//     next call is still alice's.
//
// Each step logs one line "interop: server × AS × step × binding × result".

// matrixTTL is the access token lifetime; matrixStep moves the agent's
// clock into its renewal window (its leeway is at most a quarter of the
// lifetime, 15s here) and, three steps at most, keeps its DPoP proofs'
// iat within the 5 minute window the servers accept.
const (
	matrixTTL  = 60 * time.Second
	matrixStep = 50 * time.Second
)

// matrixAS is one authorization server variant, started once.
type matrixAS struct {
	name string
	opts oauthtest.ASOptions
}

// matrixServer is one MCP server kind.
type matrixServer struct {
	name string
	// start runs it against as.
	start func(t *testing.T, as *oauthtest.AuthServer) matrixPeer
}

// matrixPeer is a running MCP server as the matrix reads it.
type matrixPeer struct {
	url string
	// calls are the subs of the whoami calls it served.
	calls func() []string
	// binding says how the tokens it let through were presented.
	binding func() string
	// offline: it verifies tokens without asking the authorization server
	// (JWT + JWKS), so it cannot see a revocation before the token expires.
	offline bool
}

func matrixServers() []matrixServer {
	scopes := []string{"mcp:read"}
	bearer := func(p *oauthtest.Peer) func() string {
		return func() string {
			if p.Stats().Bearer > 0 {
				return "Bearer"
			}
			return "none"
		}
	}
	return []matrixServer{
		{"TypeScript SDK requireBearerAuth", func(t *testing.T, as *oauthtest.AuthServer) matrixPeer {
			p := oauthtest.StartSDKMCP(t, as, scopes)
			return matrixPeer{url: p.URL, calls: func() []string { return p.Stats().Calls }, binding: bearer(p)}
		}},
		{"go-sdk RequireBearerToken", func(t *testing.T, as *oauthtest.AuthServer) matrixPeer {
			p := oauthtest.StartGoSDKMCP(t, as, scopes)
			return matrixPeer{url: p.URL, calls: func() []string { return p.Stats().Calls }, binding: bearer(p)}
		}},
		{"DPoP-only (go-sdk + RFC 9449)", func(t *testing.T, as *oauthtest.AuthServer) matrixPeer {
			p := oauthtest.StartProtectedMCP(t, as, oauthtest.MCPOptions{RequiredScopes: scopes, RequireDPoP: true})
			return matrixPeer{url: p.URL, calls: p.Calls, offline: true, binding: func() string {
				if p.Requests().DPoP > 0 {
					return "DPoP"
				}
				return "none"
			}}
		}},
	}
}

// matrixASes: oidc-provider 9 as it comes (features.dPoP is enabled by
// default in its lib/helpers/defaults.js, so DPoP is advertised), with
// DPoP off, and with rotating refresh tokens and reuse detection.
func matrixASes() []matrixAS {
	base := oauthtest.ASOptions{Scopes: []string{"mcp:read"}, AccessTokenTTL: matrixTTL}
	def, off, rot := base, base, base
	def.DPoP = true
	rot.DPoP, rot.RotateRefreshTokens = true, true
	return []matrixAS{
		{"oidc-provider default (DPoP)", def},
		{"oidc-provider DPoP off", off},
		{"oidc-provider rotating RT", rot},
	}
}

// TestInteropMatrix runs every MCP server × authorization server pair of
// the matrix except the DPoP-only server behind the authorization server
// without DPoP, which cannot bind a token to a key.
func TestInteropMatrix(t *testing.T) {
	runInteropMatrix(t, func(server, as string) bool {
		return !(strings.HasPrefix(server, "DPoP-only") && strings.HasSuffix(as, "DPoP off"))
	})
}

func runInteropMatrix(t *testing.T, include func(server, as string) bool) {
	start := time.Now()
	var table []string
	for _, av := range matrixASes() {
		var servers []matrixServer
		for _, s := range matrixServers() {
			if include(s.name, av.name) {
				servers = append(servers, s)
			}
		}
		if len(servers) == 0 {
			continue
		}
		t.Run(av.name, func(t *testing.T) {
			as := oauthtest.StartAuthServer(t, av.opts)
			for _, s := range servers {
				t.Run(s.name, func(t *testing.T) {
					peer := s.start(t, as)
					m := startMatrixCase(t, as, peer)
					// The steps share one chat WebSocket, bound to this t: they
					// run in order here, not as subtests, and the first failure
					// ends the case.
					record := func(step, result string) {
						line := fmt.Sprintf("%s × %s × %s × %s × %s", s.name, av.name, step, peer.binding(), result)
						table = append(table, line)
						t.Logf("interop: %s", line)
					}
					current := ""
					t.Cleanup(func() {
						if t.Failed() && current != "" {
							record(current, "FAIL")
						}
					})
					for _, step := range []struct {
						name string
						run  func(t *testing.T)
					}{
						{"eager sign-in", m.eagerSignIn},
						{"tool call", m.toolCall},
						{"silent refresh", m.silentRefresh},
						{"revoked token", m.revoked},
						{"second user", m.secondUser},
					} {
						current = step.name
						step.run(t)
						if t.Failed() {
							t.FailNow()
						}
						record(step.name, "PASS")
					}
					current = ""
				})
			}
		})
	}
	t.Logf("interop matrix (%d cases, %s):\n%s", len(table), time.Since(start).Round(time.Second), strings.Join(table, "\n"))
}

// matrixCase is one serve with a single OAUTH2 agent on one MCP server.
type matrixCase struct {
	as    *oauthtest.AuthServer
	peer  matrixPeer
	addr  string
	clock *testClock
	alice *chattest.Client
}

func startMatrixCase(t *testing.T, as *oauthtest.AuthServer, peer matrixPeer) *matrixCase {
	listen := repFreeAddr(t)
	env := map[string]string{"RANCHER_URL": repRancher(t), "ACTIVE_LLM": "scripted", "STORAGE": "memory", "LOG_LEVEL": "debug",
		"OAUTH_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"OAUTH_REDIRECT_URI":   "http://" + listen + "/v1/api/oauth2/callback"}
	clock := &testClock{}
	addr, out, _ := runServeAt(t, clock.Now, []string{"--config", ghConfig(t, peer.url, ""), "--listen", listen}, func(k string) string { return env[k] })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve log:\n%s", out.String())
			t.Logf("oidc-provider stderr:\n%s", as.Stderr())
		}
	})
	return &matrixCase{as: as, peer: peer, addr: addr, clock: clock}
}

const matrixWhoami = `{"mcpTool":{"name":"whoami","args":{}},"text":{"chunks":["done"]}}`

// approve completes the popup of an <authentication> frame as user at the
// provider, loads the callback page and confirms on the socket.
func (m *matrixCase) approve(t *testing.T, c *chattest.Client, frame, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cb, err := m.as.Approve(ctx, authURL(t, frame), user)
	if err != nil {
		t.Fatalf("approve as %s: %v", user, err)
	}
	if code, page := repDo(t, "GET", cb.String(), user, ""); code != 200 || !strings.Contains(page, "oauth_success") {
		t.Fatalf("callback page: HTTP %d %s", code, page)
	}
	c.Send("authentication_confirmed")
}

// eagerSignIn: dial as user, the only agent asks to sign in at once; the
// sign-in message ends quietly after the popup.
func (m *matrixCase) eagerSignInAs(t *testing.T, user string) *chattest.Client {
	t.Helper()
	codes := m.as.TokenRequests().AuthorizationCode
	c := repDial(t, "http://"+m.addr, "/v1/ws/messages/"+user+"-chat", user)
	if st := agentStatus(c.Metadata()); st["gh"]["status"] != "active" {
		t.Fatalf("gh = %v", st["gh"])
	}
	frames := c.UntilPrefix("<authentication>")
	if len(frames) != 2 || frames[0] != "<message>" {
		t.Fatalf("frames %q, want <message> and one <authentication>", frames)
	}
	m.approve(t, c, frames[1], user)
	if rest := c.Turn(); !slices.Equal(rest, []string{"</message>"}) {
		t.Fatalf("after the sign-in %q, want </message>", rest)
	}
	if n := m.as.TokenRequests().AuthorizationCode - codes; n != 1 {
		t.Errorf("%d code exchanges, want 1", n)
	}
	return c
}

func (m *matrixCase) eagerSignIn(t *testing.T) { m.alice = m.eagerSignInAs(t, "alice") }

// ask runs a whoami turn on c that must answer without a sign-in, and
// checks the server's call was user's.
func (m *matrixCase) ask(t *testing.T, c *chattest.Client, user string) {
	t.Helper()
	before := len(m.peer.calls())
	push(t, m.addr, matrixWhoami)
	if frames := c.Ask(`{"prompt":"who am I?","context":{}}`); !slices.Equal(frames, []string{"<message>", "done", "</message>"}) {
		t.Fatalf("turn %q, want <message> done </message>", frames)
	}
	calls := m.peer.calls()
	if len(calls) != before+1 || calls[len(calls)-1] != user {
		t.Fatalf("server calls %q, want one more by %s", calls, user)
	}
}

func (m *matrixCase) toolCall(t *testing.T) { m.ask(t, m.alice, "alice") }

func (m *matrixCase) silentRefresh(t *testing.T) {
	for i := range 2 {
		before := m.as.TokenRequests()
		m.clock.Advance(matrixStep)
		m.ask(t, m.alice, "alice")
		after := m.as.TokenRequests()
		if n := after.RefreshToken - before.RefreshToken; n != 1 {
			t.Errorf("refresh %d: %d refresh requests, want 1", i+1, n)
		}
		if n := after.AuthorizationCode - before.AuthorizationCode; n != 0 {
			t.Errorf("refresh %d: %d code exchanges, want none", i+1, n)
		}
	}
}

// revoked: every grant is revoked; the next turn asks to sign in once and
// then answers as alice.
func (m *matrixCase) revoked(t *testing.T) {
	if n := m.as.RevokeAll(); n < 1 {
		t.Fatalf("revoked %d grants", n)
	}
	if m.peer.offline {
		// It accepts the token until it expires: let it expire.
		m.clock.Advance(matrixStep)
	}
	before := m.as.TokenRequests().AuthorizationCode
	calls := len(m.peer.calls())
	push(t, m.addr, matrixWhoami)
	m.alice.Send(`{"prompt":"and now?","context":{}}`)
	frames := m.alice.UntilPrefix("<authentication>")
	if len(frames) != 2 || frames[0] != "<message>" {
		t.Fatalf("frames %q, want <message> and one <authentication>", frames)
	}
	m.approve(t, m.alice, frames[1], "alice")
	if rest := m.alice.Turn(); !slices.Equal(rest, []string{"done", "</message>"}) {
		t.Fatalf("after the new sign-in %q, want done </message>", rest)
	}
	if n := m.as.TokenRequests().AuthorizationCode - before; n != 1 {
		t.Errorf("%d code exchanges, want 1", n)
	}
	if got := m.peer.calls(); len(got) != calls+1 || got[len(got)-1] != "alice" {
		t.Errorf("server calls %q, want one more by alice", got)
	}
}

// secondUser: bob signs in himself and is bob at the server; alice stays
// alice.
func (m *matrixCase) secondUser(t *testing.T) {
	bob := m.eagerSignInAs(t, "bob")
	m.ask(t, bob, "bob")
	m.ask(t, m.alice, "alice")
}
