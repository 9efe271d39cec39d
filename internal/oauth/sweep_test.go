package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/logging/logtest"
	"github.com/rancher/ai-agent/internal/oauthproto"
	"github.com/rancher/ai-agent/internal/store"
)

// revokingAS is an authorization server (RFC 8414 metadata) with an RFC
// 7009 revocation endpoint that records the tokens it is asked to revoke,
// or answers 503 while down.
type revokingAS struct {
	*httptest.Server
	mu      sync.Mutex
	revoked []string
	down    bool
	// jwtAccess refuses access tokens with unsupported_token_type, as
	// oidc-provider does for JWT access tokens (RFC 7009 §2.2.1).
	jwtAccess bool
}

func startRevokingAS(t *testing.T) *revokingAS {
	t.Helper()
	as := &revokingAS{}
	as.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": as.URL, "authorization_endpoint": as.URL + "/authorize", "token_endpoint": as.URL + "/token",
				"revocation_endpoint": as.URL + "/revoke", "code_challenge_methods_supported": []string{"S256"},
			})
		case "/revoke":
			as.mu.Lock()
			defer as.mu.Unlock()
			if as.down {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_ = r.ParseForm()
			if as.jwtAccess && r.PostForm.Get("token_type_hint") == "access_token" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error":"unsupported_token_type"}`))
				return
			}
			if r.PostForm.Get("client_id") != "c" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			as.revoked = append(as.revoked, r.PostForm.Get("token"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(as.Close)
	return as
}

func (as *revokingAS) setDown(down bool) {
	as.mu.Lock()
	defer as.mu.Unlock()
	as.down = down
}

func (as *revokingAS) revokedTokens() []string {
	as.mu.Lock()
	defer as.mu.Unlock()
	return slices.Clone(as.revoked)
}

// mutableSource is a Source whose agents a test changes.
type mutableSource struct {
	mu     sync.Mutex
	agents []agentconfig.Agent
	err    error
}

func (m *mutableSource) Agents(context.Context) ([]agentconfig.Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.agents), m.err
}

func (m *mutableSource) set(err error, agents ...agentconfig.Agent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.agents, m.err = agents, err
}

// sweepFixture is a Service over a memory store with the OAUTH2 agents gh
// and old on one authorization server, and a Rancher that knows some users.
type sweepFixture struct {
	s      *Service
	v      *Vault
	as     *revokingAS
	src    *mutableSource
	gh     agentconfig.Agent
	old    agentconfig.Agent
	log    *logtest.Buffer
	users  map[string]error // UserExists: nil exists, errGone gone, else unknown
	checks []string         // users asked about
	mu     sync.Mutex
}

var errGone = errors.New("gone")

func newSweepFixture(t *testing.T) *sweepFixture {
	t.Helper()
	f := &sweepFixture{as: startRevokingAS(t), src: &mutableSource{}, log: &logtest.Buffer{}, users: map[string]error{}}
	agent := func(name string) agentconfig.Agent {
		return agentconfig.Agent{Name: name, Revision: "1", Spec: v1alpha1.AIAgentConfigSpec{
			MCPURL: "http://127.0.0.1:1/mcp", AuthenticationType: v1alpha1.AuthOAuth2,
		}, AuthSecret: map[string][]byte{"clientID": []byte("c"), "metadataEndpoint": []byte(f.as.URL + "/.well-known/oauth-authorization-server")}}
	}
	f.gh, f.old = agent("gh"), agent("old")
	f.src.set(nil, f.gh, f.old)
	sealer, _ := NewSealer(GenerateKey())
	f.v = NewVault(store.NewMemory(), sealer, nil)
	s, err := NewService(ServiceOptions{
		Vault: f.v, Sealer: sealer, Agents: f.src,
		Endpoint:    func(a agentconfig.Agent) (string, error) { return a.Spec.MCPURL, nil },
		RedirectURI: "http://127.0.0.1:9/v1/api/oauth2/callback",
		Logger:      slog.New(slog.NewJSONHandler(f.log, nil)),
		UserExists: func(_ context.Context, id string) (bool, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.checks = append(f.checks, id)
			switch err := f.users[id]; {
			case err == nil:
				return true, nil
			case errors.Is(err, errGone):
				return false, nil
			default:
				return false, err
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return f
}

// put stores tokens named after user and agent.
func (f *sweepFixture) put(t *testing.T, user, agent string) TokenKey {
	t.Helper()
	k := NewTokenKey(user, agent, f.as.URL)
	err := f.v.Put(context.Background(), k, TokenSet{AccessToken: "at-" + user + "-" + agent, RefreshToken: "rt-" + user + "-" + agent,
		Client: oauthproto.ClientInfo{ClientID: "c", AuthMethod: oauthproto.AuthMethodNone, Issuer: f.as.URL}})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (f *sweepFixture) stored(t *testing.T, k TokenKey) bool {
	t.Helper()
	_, err := f.v.Get(context.Background(), k)
	if err != nil && !errors.Is(err, ErrNoToken) {
		t.Fatal(err)
	}
	return err == nil
}

// TestSweepDeletedAgent: the tokens of an agent no longer configured are
// revoked at its authorization server (refresh, then access token) and
// deleted, for every user; the other agent's are kept. An agent list that
// cannot be read deletes nothing.
func TestSweepDeletedAgent(t *testing.T) {
	f := newSweepFixture(t)
	ctx := context.Background()
	aliceGH, aliceOld, bobOld := f.put(t, "u-alice", "gh"), f.put(t, "u-alice", "old"), f.put(t, "u-bob", "old")

	f.src.set(errors.New("the API server is away"))
	f.s.sweepAgents(ctx)
	for _, k := range []TokenKey{aliceGH, aliceOld, bobOld} {
		if !f.stored(t, k) {
			t.Fatalf("%v deleted although the agents could not be listed", k)
		}
	}

	f.src.set(nil, f.gh) // "old" deleted
	f.s.sweepAgents(ctx)
	if !f.stored(t, aliceGH) || f.stored(t, aliceOld) || f.stored(t, bobOld) {
		t.Fatalf("after old's deletion: gh kept %t, alice's old kept %t, bob's old kept %t",
			f.stored(t, aliceGH), f.stored(t, aliceOld), f.stored(t, bobOld))
	}
	got := f.as.revokedTokens()
	slices.Sort(got)
	if want := []string{"at-u-alice-old", "at-u-bob-old", "rt-u-alice-old", "rt-u-bob-old"}; !slices.Equal(got, want) {
		t.Fatalf("revoked at the server: %v, want %v", got, want)
	}
	for _, user := range []string{"u-alice", "u-bob"} {
		want := `"audit":true,"event":"admin_revocation","user":"` + user + `","agent":"old","issuer":"` + f.as.URL + `","actor":"system","result":"revoked","reason":"the agent was deleted"`
		if !strings.Contains(f.log.String(), want) {
			t.Errorf("no audit line %s in\n%s", want, f.log.String())
		}
	}
	for _, secret := range []string{"at-u-", "rt-u-"} {
		if strings.Contains(f.log.String(), secret) {
			t.Errorf("a token is in the log:\n%s", f.log.String())
		}
	}
}

// TestSweepDeletedAgentServerDown: the authorization server answers 503;
// the tokens are deleted here anyway, and the audit line says so.
func TestSweepDeletedAgentServerDown(t *testing.T) {
	f := newSweepFixture(t)
	k := f.put(t, "u-alice", "old")
	f.as.setDown(true)
	f.src.set(nil, f.gh)
	f.s.sweepAgents(context.Background())
	if f.stored(t, k) {
		t.Fatal("the tokens of the deleted agent are still stored")
	}
	if !strings.Contains(f.log.String(), `"result":"deleted_locally","reason":"the agent was deleted. The authorization server did not confirm the revocation`) {
		t.Errorf("no deleted_locally audit line:\n%s", f.log.String())
	}
}

// TestSweepUsers: Rancher says a user is gone (404): their tokens, for
// every agent, are revoked and deleted; a user Rancher knows, or one it
// cannot answer for (5xx, unreachable), keeps theirs.
func TestSweepUsers(t *testing.T) {
	f := newSweepFixture(t)
	alive, goneGH, goneOld, unknown := f.put(t, "u-alive", "gh"), f.put(t, "u-gone", "gh"), f.put(t, "u-gone", "old"), f.put(t, "u-unknown", "gh")
	f.users["u-gone"] = errGone
	f.users["u-unknown"] = errors.New("rancher user: HTTP 503")
	f.s.sweepUsers(context.Background())
	if !f.stored(t, alive) || !f.stored(t, unknown) {
		t.Errorf("kept: alive %t, unknown (5xx) %t; want both", f.stored(t, alive), f.stored(t, unknown))
	}
	if f.stored(t, goneGH) || f.stored(t, goneOld) {
		t.Errorf("the departed user's tokens are still stored")
	}
	got := f.as.revokedTokens()
	slices.Sort(got)
	if want := []string{"at-u-gone-gh", "at-u-gone-old", "rt-u-gone-gh", "rt-u-gone-old"}; !slices.Equal(got, want) {
		t.Errorf("revoked at the server: %v, want %v", got, want)
	}
	f.mu.Lock()
	checks := slices.Clone(f.checks)
	f.mu.Unlock()
	slices.Sort(checks)
	if want := []string{"u-alive", "u-gone", "u-unknown"}; !slices.Equal(checks, want) {
		t.Errorf("users asked about: %v, want each once: %v", checks, want)
	}
	if !strings.Contains(f.log.String(), `"user":"u-gone","agent":"gh","issuer":"`+f.as.URL+`","actor":"system","result":"revoked","reason":"the Rancher user no longer exists"`) {
		t.Errorf("no audit line of the departed user:\n%s", f.log.String())
	}
}

// TestRevokeJWTAccessToken: a user's sign-out where the server revokes the
// refresh token but answers unsupported_token_type for the access token
// (a JWT): the sign-in is ended at the server, and the answer says the
// access token stays valid until it expires.
func TestRevokeJWTAccessToken(t *testing.T) {
	f := newSweepFixture(t)
	f.as.mu.Lock()
	f.as.jwtAccess = true
	f.as.mu.Unlock()
	k := f.put(t, "u-alice", "gh")
	res, err := f.s.Revoke(context.Background(), RevokeOptions{User: "u-alice", Agent: "gh", Actor: "u-alice", Event: OpRevoke})
	if err != nil {
		t.Fatal(err)
	}
	if !res.RevokedAtServer || !strings.Contains(res.Reason, "stays valid until it expires") || res.Revoked != 1 {
		t.Fatalf("revocation = %+v", res)
	}
	if f.stored(t, k) {
		t.Fatal("the tokens are still stored")
	}
	if got := f.as.revokedTokens(); !slices.Equal(got, []string{"rt-u-alice-gh"}) {
		t.Fatalf("revoked at the server: %v, want the refresh token", got)
	}
	// Without a refresh token, an access token the server cannot revoke
	// is not revoked at the server.
	k = f.put(t, "u-bob", "gh")
	ts, _ := f.v.Get(context.Background(), k)
	ts.RefreshToken = ""
	if err := f.v.Put(context.Background(), k, ts); err != nil {
		t.Fatal(err)
	}
	res, err = f.s.Revoke(context.Background(), RevokeOptions{User: "u-bob", Agent: "gh", Actor: "u-bob", Event: OpRevoke})
	if err != nil || res.RevokedAtServer || res.Reason == "" {
		t.Fatalf("access token only: %+v %v", res, err)
	}
}

// TestRevokedSignInStaysRevoked: the authorization server has no
// revocation endpoint, so a revoked refresh token still works there; a
// browser that was not the one signing out still holds it in its sealed
// cookie. After the revocation that cookie is refused (no token request is
// made), the connection lists as signed out, and a new sign-in replaces
// the marker. Without a revocation, the same cookie does refresh.
func TestRevokedSignInStaysRevoked(t *testing.T) {
	as, calls := fakeAS(t, 0, 0)
	s, v, a := testService(t, as)
	ctx := context.Background()
	cfg, _ := ConfigFromSecret(a.AuthSecret)
	d, err := s.discover(ctx, a, cfg, Refusal{})
	if err != nil {
		t.Fatal(err)
	}
	key := expiredToken(t, v, as)
	res, err := s.Revoke(ctx, RevokeOptions{User: key.User, Agent: "gh", Actor: key.User, Event: OpRevoke})
	if err != nil || res.RevokedAtServer || res.Revoked != 1 {
		t.Fatalf("revocation = %+v %v, want deleted here only", res, err)
	}
	if _, err := s.refresh(ctx, a, key, d, cfg, refreshOpts{RT: "rt-1"}); !errors.Is(err, ErrNoToken) || calls.Load() != 0 {
		t.Fatalf("refresh with the old cookie: %v after %d token requests, want ErrNoToken and none", err, calls.Load())
	}
	conns, err := s.Connections(ctx, key.User, []agentconfig.Agent{a})
	if err != nil || len(conns) != 1 || conns[0].Status != StatusSignedOut {
		t.Fatalf("connections after the revocation: %+v %v", conns, err)
	}
	// A second sign-out finds nothing (the marker is no connection).
	if res, err := s.Revoke(ctx, RevokeOptions{User: key.User, Agent: "gh", Actor: key.User, Event: OpRevoke}); err != nil || res.Revoked != 0 {
		t.Fatalf("second revocation = %+v %v", res, err)
	}
	// A new sign-in overwrites the marker; refreshes work again.
	if err := s.putLocked(ctx, key, TokenSet{AccessToken: "at-new", RefreshToken: "rt-1", Expiry: time.Now().Add(-time.Minute),
		Client: oauthproto.ClientInfo{ClientID: "c", AuthMethod: oauthproto.AuthMethodNone, Issuer: as.URL}}); err != nil {
		t.Fatal(err)
	}
	if v.Revoked(ctx, key) {
		t.Fatal("the marker survived a new sign-in")
	}
	// The control: a user who never signed out, with only the cookie (the
	// store lost the record), is refreshed from it.
	other := NewTokenKey("u-other", "gh", as.URL)
	if got, err := s.refresh(ctx, a, other, d, cfg, refreshOpts{RT: "rt-1"}); err != nil || got.AccessToken != "at-2" {
		t.Fatalf("refresh from a cookie without a revocation: %+v %v", got, err)
	}
}
