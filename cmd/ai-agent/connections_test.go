package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/oauth/oauthtest"
	"github.com/rancher/ai-agent/internal/store"
)

// connSignIn signs user in to agent gh through a chat on base (the
// callback goes to OAUTH_REDIRECT_URI's replica) and closes the chat.
func connSignIn(t *testing.T, as *oauthtest.AuthServer, base, user string) {
	t.Helper()
	c := repDial(t, base, "/v1/ws/messages", user)
	c.Metadata()
	if f := c.Read(); f != "<message>" {
		t.Fatalf("frame %q, want <message>", f)
	}
	auth := connAuthFrame(t, c.Read())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cb, err := as.Approve(ctx, auth, user)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	code, page := repDo(t, "GET", cb.String(), user, "")
	if code != 200 || !strings.Contains(page, "oauth_success") {
		t.Fatalf("callback = %d %s", code, page)
	}
	// The page says how to sign out again, at the agent's public URL.
	if want := "To sign out of gh later, send DELETE " + strings.TrimSuffix(cb.Scheme+"://"+cb.Host+cb.Path, "/callback") + "/connections/gh to the agent."; !strings.Contains(page, want) {
		t.Fatalf("callback page %s does not say %q", page, want)
	}
	c.Send("authentication_confirmed")
	if got := c.Until("</message>"); len(got) != 1 {
		t.Fatalf("after confirmation: %q, want only </message>", got)
	}
}

// connAuthFrame is the URL of an <authentication> frame.
func connAuthFrame(t *testing.T, f string) string {
	t.Helper()
	payload, ok := strings.CutPrefix(f, "<authentication>")
	payload, ok2 := strings.CutSuffix(payload, "</authentication>")
	var auth struct{ URL string }
	if !ok || !ok2 || json.Unmarshal([]byte(payload), &auth) != nil || auth.URL == "" {
		t.Fatalf("frame %q, want <authentication>", f)
	}
	return auth.URL
}

// connList is GET connections as user.
func connList(t *testing.T, url, user string) []oauth.Connection {
	t.Helper()
	code, body := repDo(t, "GET", url, user, "")
	if code != 200 {
		t.Fatalf("GET %s = %d %s", url, code, body)
	}
	var out []oauth.Connection
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
	return out
}

// TestConnections drives the connection endpoints through serve, two
// replicas on one PostgreSQL, against oidc-provider (revocation and
// introspection on) and an MCP server that introspects every token:
// after sign-in the list shows the connection (and no secret); a sign-out
// on replica A revokes the refresh and access tokens at the authorization
// server (introspection says inactive, the MCP server refuses the old
// access token) and replica B's next chat asks to sign in again; a
// cross-site DELETE is refused; a non-administrator gets 403 on another
// user's connections; an administrator (on B) revokes bob's.
func TestConnections(t *testing.T) {
	env := replicaEnv(t)
	as := oauthtest.StartAuthServer(t, oauthtest.ASOptions{Scopes: []string{"mcp:read"}, RotateRefreshTokens: true, OpaqueAccessTokens: true})
	pm := oauthtest.StartProtectedMCP(t, as, oauthtest.MCPOptions{RequiredScopes: []string{"mcp:read"}, Introspect: true})
	cfg := ghConfig(t, pm.URL, "")
	addrA, addrB := repFreeAddr(t), repFreeAddr(t)
	env["OAUTH_REDIRECT_URI"] = "http://" + addrB + "/v1/api/oauth2/callback"
	clock := &testClock{}
	// A checks Rancher's answer on who may configure agents (the fake
	// Rancher allows no one); B lets everyone (RBAC_ENABLED=false).
	a, logA, _ := runServeAt(t, clock.Now, []string{"--listen", addrA, "--config", cfg}, func(k string) string { return env[k] })
	b, logB, _ := runServeAt(t, clock.Now, []string{"--listen", addrB, "--config", cfg}, func(k string) string {
		if k == "RBAC_ENABLED" {
			return "false"
		}
		return env[k]
	})
	a, b = "http://"+a, "http://"+b

	connSignIn(t, as, a, "alice")
	connSignIn(t, as, a, "bob")

	// B serves alice in a chat that stays open across the sign-out on A:
	// B now holds an MCP session and a tool list for her credential.
	live := repDial(t, b, "/v1/ws/messages", "alice")
	live.Metadata()
	bAddr := strings.TrimPrefix(b, "http://")
	push(t, bAddr, whoamiPush)
	if all := strings.Join(live.Ask(`{"prompt":"who am I?","context":{}}`), ""); !strings.Contains(all, "You are alice.") || strings.Contains(all, "<authentication>") {
		t.Fatalf("alice's turn on B before the sign-out: %q", all)
	}

	// The stored tokens, read as the test's own vault would (same key).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.OpenPostgres(ctx, env["DB_CONNECTION_STRING"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, _ := base64.StdEncoding.DecodeString(env["OAUTH_ENCRYPTION_KEY"])
	sealer, err := oauth.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	vault := oauth.NewVault(st, sealer, nil)
	aliceKey := oauth.NewTokenKey("u-alice", "gh", as.Issuer)
	old, err := vault.Get(ctx, aliceKey)
	if err != nil || old.RefreshToken == "" {
		t.Fatalf("alice's stored tokens: %v (refresh token %t)", err, old.RefreshToken != "")
	}
	for _, tok := range []string{old.AccessToken, old.RefreshToken} {
		if active, err := as.Introspect(ctx, tok); err != nil || !active {
			t.Fatalf("before sign-out: introspection active=%t %v", active, err)
		}
	}

	// (1) The list, on either replica.
	for _, base := range []string{a, b} {
		code, body := repDo(t, "GET", base+"/v1/api/oauth2/connections", "alice", "")
		t.Logf("GET %s/v1/api/oauth2/connections (alice) = %d %s", base, code, body)
		for _, secret := range []string{old.AccessToken, old.RefreshToken, old.Client.ClientSecret} {
			if secret != "" && strings.Contains(body, secret) {
				t.Fatal("the connection list holds a token or secret")
			}
		}
		got := connList(t, base+"/v1/api/oauth2/connections", "alice")
		if len(got) != 1 || got[0].Agent != "gh" || got[0].Status != oauth.StatusConnected || got[0].Issuer != as.Issuer ||
			!got[0].Refreshable || got[0].TokenBinding != "bearer" || got[0].GrantType != oauth.GrantAuthorizationCode ||
			got[0].ExpiresAt == nil || got[0].Shared {
			t.Fatalf("alice's connections on %s = %+v", base, got)
		}
	}

	// (2) A cross-site sign-out is refused; alice's own, on A, revokes.
	req, _ := http.NewRequest("DELETE", a+"/v1/api/oauth2/connections/gh", nil)
	req.Header.Set("Cookie", "R_SESS=tok-alice")
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site DELETE: %v %v, want 403", resp, err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("DELETE %s/v1/api/oauth2/connections/gh (alice, Origin: https://evil.example) = %d %s", a, resp.StatusCode, b)
	}
	if _, err := vault.Get(ctx, aliceKey); err != nil {
		t.Fatalf("the cross-site DELETE removed alice's tokens: %v", err)
	}
	code, body := repDo(t, "DELETE", a+"/v1/api/oauth2/connections/gh", "alice", "")
	t.Logf("DELETE %s/v1/api/oauth2/connections/gh (alice) = %d %s", a, code, body)
	var rev struct {
		RevokedAtServer bool   `json:"revokedAtServer"`
		Reason          string `json:"reason"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &rev) != nil || !rev.RevokedAtServer {
		t.Fatalf("sign-out = %d %s", code, body)
	}
	for name, tok := range map[string]string{"refresh": old.RefreshToken, "access": old.AccessToken} {
		if active, err := as.Introspect(ctx, tok); err != nil || active {
			t.Errorf("after sign-out: the %s token is active=%t (%v) at the authorization server", name, active, err)
		}
	}
	if code := mcpStatus(t, pm.URL, old.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("the introspecting MCP server answered the revoked access token with %d, want 401", code)
	}
	if _, err := vault.Get(ctx, aliceKey); err == nil {
		t.Error("alice's tokens are still stored")
	}
	if got := connList(t, b+"/v1/api/oauth2/connections", "alice"); len(got) != 1 || got[0].Status != oauth.StatusSignedOut {
		t.Errorf("alice's connections on B after sign-out = %+v", got)
	}
	_, body = repDo(t, "GET", b+"/v1/api/oauth2/connections", "alice", "")
	t.Logf("GET %s/v1/api/oauth2/connections (alice, after the sign-out on A) = 200 %s", b, body)
	// B's open chat: its next turn uses the store, not what B cached, and
	// asks alice to sign in.
	push(t, bAddr, whoamiPush)
	live.Send(`{"prompt":"who am I now?","context":{}}`)
	if got := live.UntilPrefix("<authentication>"); slices.ContainsFunc(got, func(f string) bool { return strings.Contains(f, "You are alice.") }) {
		t.Fatalf("B's open chat after the sign-out on A: %q", got)
	}
	live.WS.CloseNow()
	if code, body := repDo(t, "POST", b+"/v1/control/clear", "", ""); code != http.StatusNoContent {
		t.Fatalf("clear the script: %d %s", code, body)
	}
	// B's next chat asks alice to sign in.
	c := repDial(t, b, "/v1/ws/messages", "alice")
	md := c.Metadata()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("B's metadata %q; log of B:\n%s", md, logB.String())
		}
	})
	if f := c.Read(); f != "<message>" {
		t.Fatalf("frame %q, want <message>", f)
	}
	connAuthFrame(t, c.Read())

	// (3) Another user's connections: 403 for a non-administrator (A),
	// listed and revoked by an administrator (B).
	for _, m := range []string{"GET", "DELETE"} {
		code, body := repDo(t, m, a+"/v1/api/oauth2/users/u-bob/connections", "alice", "")
		if code != http.StatusForbidden {
			t.Errorf("%s bob's connections as a non-admin = %d %s, want 403", m, code, body)
		}
		t.Logf("%s %s/v1/api/oauth2/users/u-bob/connections (alice, not an admin on A) = %d %s", m, a, code, body)
	}
	if got := connList(t, b+"/v1/api/oauth2/users/u-bob/connections", "alice"); len(got) != 1 || got[0].Status != oauth.StatusConnected {
		t.Fatalf("bob's connections (admin) = %+v", got)
	}
	_, body = repDo(t, "GET", b+"/v1/api/oauth2/users/u-bob/connections", "alice", "")
	t.Logf("GET %s/v1/api/oauth2/users/u-bob/connections (admin alice) = 200 %s", b, body)
	bobOld, err := vault.Get(ctx, oauth.NewTokenKey("u-bob", "gh", as.Issuer))
	if err != nil {
		t.Fatal(err)
	}
	code, body = repDo(t, "DELETE", b+"/v1/api/oauth2/users/u-bob/connections/gh", "alice", "")
	t.Logf("DELETE %s/v1/api/oauth2/users/u-bob/connections/gh (admin alice) = %d %s", b, code, body)
	if code != 200 || !strings.Contains(body, `"revokedAtServer":true`) {
		t.Fatalf("admin revocation = %d %s", code, body)
	}
	if active, err := as.Introspect(ctx, bobOld.RefreshToken); err != nil || active {
		t.Errorf("bob's refresh token active=%t (%v) after the admin revocation", active, err)
	}
	if got := connList(t, a+"/v1/api/oauth2/connections", "bob"); len(got) != 1 || got[0].Status != oauth.StatusSignedOut {
		t.Errorf("bob's connections on A = %+v", got)
	}
	if !strings.Contains(logA.String(), `"audit":true,"event":"revocation","user":"u-alice","agent":"gh"`) {
		t.Errorf("no audit line of alice's sign-out on A")
	}
	if want := `"audit":true,"event":"admin_revocation","user":"u-bob","agent":"gh","issuer":"` + as.Issuer + `","actor":"u-alice","result":"revoked","reason":"revoked by an administrator"`; !strings.Contains(logB.String(), want) {
		t.Errorf("no audit line %s on B", want)
	}
	t.Logf("audit A:\n%s", linesWith(logA.String(), `"audit":true`))
	t.Logf("audit B:\n%s", linesWith(logB.String(), `"audit":true`))
	// Each audited event is counted: A's sign-out, B's admin revocation.
	for _, m := range []struct {
		log  string
		want string
	}{
		{logA.String(), `ai_agent_oauth_events_total{event="revocation",result="revoked"} 1`},
		{logB.String(), `ai_agent_oauth_events_total{event="admin_revocation",result="revoked"} 1`},
	} {
		maddr := regexp.MustCompile(`"msg":"metrics listening","addr":"([0-9.:]+)"`).FindStringSubmatch(m.log)
		if maddr == nil {
			t.Fatal("no metrics address in the log")
		}
		if code, metrics := repDo(t, "GET", "http://"+maddr[1]+"/metrics", "", ""); code != 200 || !strings.Contains(metrics, m.want) {
			t.Errorf("/metrics = %d without %s:\n%s", code, m.want, grepLines(metrics, "ai_agent_oauth_events_total"))
		}
	}
}

// mcpStatus is the HTTP status of an MCP initialize with token.
func mcpStatus(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// linesWith are the lines of s that contain sub.
func linesWith(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
