package oauthtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// MCPOptions configures StartProtectedMCP.
type MCPOptions struct {
	// RequiredScopes are needed for every MCP request; they are the scope in
	// the 401 challenge. A token lacking one gets 403 insufficient_scope.
	RequiredScopes []string
	// WriteScope is additionally needed to call the "write" tool (403
	// insufficient_scope with scope = RequiredScopes + WriteScope otherwise).
	// Empty: "write" needs nothing more.
	WriteScope string
	// ScopesSupported for the PRM document; default RequiredScopes plus
	// WriteScope.
	ScopesSupported []string
	// Leeway for exp; default 5s.
	Leeway time.Duration
	// Now is the server's clock for exp (default time.Now): a test moves it
	// past a token's expiry instead of waiting for it.
	Now func() time.Time
	// DPoPNonce, when set, is required in DPoP proofs (RFC 9449 §9): a proof
	// without it gets 401 use_dpop_nonce with this nonce.
	DPoPNonce string
	// Introspect makes the server authenticate every token by asking the
	// authorization server about it (RFC 7662, AuthServer.IntrospectClaims)
	// instead of verifying a JWT: a revoked token is refused although its
	// exp is good. The server must issue opaque access tokens
	// (ASOptions.OpaqueAccessTokens): oidc-provider introspects no JWT.
	Introspect bool
	// AdvertiseDPoP makes the server say it accepts DPoP-bound tokens: its
	// PRM lists dpop_signing_alg_values_supported (RFC 9728 §2) and its 401
	// adds a DPoP challenge (RFC 9449 §7.1). Without it the server still
	// checks DPoP proofs when they come, but says nothing of DPoP.
	AdvertiseDPoP bool
	// BearerOnly makes the MCP endpoint go-sdk's own auth.RequireBearerToken
	// (a server nobody here wrote): it knows only "Authorization: Bearer"
	// and answers anything else with its 401 and a Bearer challenge; a
	// missing scope is its 403. The token's signature, iss, aud and exp are
	// checked in its verifier; DPoP is neither advertised nor checked.
	BearerOnly bool
	// MissingScope401 answers a token lacking a required scope with 401
	// (Bearer error="insufficient_scope") instead of 403, as
	// rancher/rancher-ai-mcp's OAuth middleware does.
	MissingScope401 bool
	// Host, a name under .test (e.g. "mcp.test"), makes URL, PRMURL and
	// the PRM resource http://HOST:PORT/... instead of 127.0.0.1, and
	// turns off go-sdk's DNS-rebinding check, which refuses such a Host on
	// a loopback listener (see hostname.go). Empty: 127.0.0.1.
	Host string
	// RequireDPoP makes a DPoP-only resource server (RFC 9449 §7.1): it is
	// AdvertiseDPoP plus dpop_bound_access_tokens_required in its PRM (RFC
	// 9728 §2), its 401 is a DPoP challenge only, and a Bearer token is
	// refused.
	RequireDPoP bool
	// PlainChallenge makes every 401, a missing scope's included, carry
	// only `Bearer resource_metadata="…"` (no scope, no error), as
	// rancher/rancher-ai-mcp's OAuth middleware does: a client learns the
	// scopes from the PRM's scopes_supported alone.
	PlainChallenge bool
	// IgnoreAudience accepts a token whatever its aud, as
	// rancher/rancher-ai-mcp does (it checks signature, iss, exp and scope).
	IgnoreAudience bool
}

// ProtectedMCP is a running go-sdk streamable MCP server behind bearer-token
// checks against one AuthServer.
//
// Tools: "whoami" (returns the token's sub as text), "echo" {text} (returns
// text), "write" {text} (needs MCPOptions.WriteScope; returns "wrote <text>"),
// "remove" {text} (annotated destructiveHint: true; returns "removed <text>").
// whoami and echo are annotated readOnlyHint: true. ToolCalls counts the
// calls each tool ran.
type ProtectedMCP struct {
	URL    string // http://127.0.0.1:PORT/mcp, also the RFC 8707 resource / token audience
	PRMURL string // http://127.0.0.1:PORT/.well-known/oauth-protected-resource/mcp
	// Challenge401 is the exact WWW-Authenticate header of a 401.
	Challenge401 string

	issuer   string
	required []string
	write    string
	leeway   time.Duration
	jwks     *jwksCache

	nonce       string
	advertise   bool
	requireDPoP bool
	scope401    bool
	plain       bool
	anyAud      bool

	mu       sync.Mutex
	calls    []string
	ran      map[string]int // tool name -> calls run
	requests RequestCounts
	jtis     map[string]bool // DPoP proof IDs seen
	now      func() time.Time
	expired  map[string]bool // access tokens held expired (Expire)
	// introspect, when set, is the AS's answer about a token (nil: not
	// active).
	introspect func(ctx context.Context, token string) (*Claims, error)
}

// RequestCounts counts requests to the MCP endpoint.
type RequestCounts struct {
	Total        int
	Unauthorized int // 401
	Forbidden    int // 403
	DPoP         int // requests authenticated with a DPoP-bound token and proof
}

type claimsKey struct{}

// StartProtectedMCP starts the MCP server on a random loopback port; it is
// closed in t.Cleanup.
func StartProtectedMCP(t testing.TB, as *AuthServer, opts MCPOptions) *ProtectedMCP {
	t.Helper()
	p := &ProtectedMCP{
		issuer:      as.Issuer,
		required:    slices.Clone(opts.RequiredScopes),
		write:       opts.WriteScope,
		leeway:      opts.Leeway,
		jwks:        &jwksCache{uri: as.JWKSURI},
		nonce:       opts.DPoPNonce,
		advertise:   opts.AdvertiseDPoP || opts.RequireDPoP,
		requireDPoP: opts.RequireDPoP,
		scope401:    opts.MissingScope401,
		plain:       opts.PlainChallenge,
		anyAud:      opts.IgnoreAudience,
		jtis:        map[string]bool{},
		now:         opts.Now,
		expired:     map[string]bool{},
		ran:         map[string]int{},
	}
	if opts.Introspect {
		if !as.opaque {
			t.Fatalf("oauthtest: MCPOptions.Introspect needs an AuthServer with OpaqueAccessTokens (oidc-provider introspects no JWT)")
		}
		p.introspect = as.IntrospectClaims
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.leeway == 0 {
		p.leeway = 5 * time.Second
	}
	supported := opts.ScopesSupported
	if supported == nil {
		supported = slices.Clone(p.required)
		if p.write != "" && !slices.Contains(supported, p.write) {
			supported = append(supported, p.write)
		}
	}

	server := mcp.NewServer(&mcp.Implementation{Name: "oauthtest-protected-mcp", Version: "1.0.0"}, nil)
	type textIn struct {
		Text string `json:"text" jsonschema:"text"`
	}
	text := func(s string) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
	}
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true}
	destructive := true
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Returns the authenticated user (token sub).", Annotations: readOnly},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			p.ran1("whoami")
			if req.Extra == nil || req.Extra.TokenInfo == nil {
				return nil, nil, errors.New("no token info")
			}
			return text(req.Extra.TokenInfo.UserID), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Echoes text.", Annotations: readOnly},
		func(_ context.Context, _ *mcp.CallToolRequest, in textIn) (*mcp.CallToolResult, any, error) {
			p.ran1("echo")
			return text(in.Text), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "write", Description: "Pretends to write; needs the write scope."},
		func(_ context.Context, _ *mcp.CallToolRequest, in textIn) (*mcp.CallToolResult, any, error) {
			p.ran1("write")
			return text("wrote " + in.Text), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "remove", Description: "Pretends to remove something.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: &destructive}},
		func(_ context.Context, _ *mcp.CallToolRequest, in textIn) (*mcp.CallToolResult, any, error) {
			p.ran1("remove")
			return text("removed " + in.Text), nil, nil
		})
	if !checkHost(opts.Host) {
		t.Fatalf("oauthtest: Host %q is not a name under .test", opts.Host)
	}
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{DisableLocalhostProtection: opts.Host != ""})
	// The go-sdk middleware only transfers the already verified token into
	// the context the SDK reads (RequestExtra.TokenInfo, session binding).
	passInfo := auth.RequireBearerToken(func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		cl, _ := ctx.Value(claimsKey{}).(*Claims)
		if cl == nil {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{
			Scopes:     cl.Scopes(),
			Expiration: time.Unix(cl.Expiry, 0),
			UserID:     cl.Subject,
			Extra:      map[string]any{"client_id": cl.ClientID},
		}, nil
	}, &auth.RequireBearerTokenOptions{ClockSkew: p.leeway})(streamable)

	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.Start()
	t.Cleanup(srv.Close)
	base := srv.URL
	if opts.Host != "" {
		base = "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port))
	}
	p.URL = base + "/mcp"
	p.PRMURL = base + "/.well-known/oauth-protected-resource/mcp"
	p.Challenge401 = challenge(p.PRMURL, "", p.required)
	if p.plain {
		p.Challenge401 = fmt.Sprintf("Bearer resource_metadata=%q", p.PRMURL)
	}
	prm := &oauthex.ProtectedResourceMetadata{
		Resource:               p.URL,
		AuthorizationServers:   []string{as.Issuer},
		ScopesSupported:        supported,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "oauthtest protected MCP server",
	}
	switch {
	case p.requireDPoP:
		prm.DPOPSigningAlgValuesSupported = []string{"ES256"}
		prm.DPOPBoundAccessTokensRequired = true
		p.Challenge401 = `DPoP algs="ES256", ` + strings.TrimPrefix(p.Challenge401, "Bearer ")
	case p.advertise:
		prm.DPOPSigningAlgValuesSupported = []string{"ES256"}
		p.Challenge401 += `, DPoP algs="ES256"`
	}
	mux.Handle("/.well-known/oauth-protected-resource/mcp", auth.ProtectedResourceMetadataHandler(prm))
	if opts.BearerOnly {
		mux.Handle("/mcp", p.bearerOnly(streamable))
	} else {
		mux.Handle("/mcp", p.guard(passInfo))
	}
	return p
}

// bearerOnly is the MCP endpoint of a Bearer-only server: go-sdk's
// auth.RequireBearerToken, with counting around it.
func (p *ProtectedMCP) bearerOnly(next http.Handler) http.Handler {
	verify := func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		cl, err := p.jwks.verifyJWT(ctx, token)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		if cl.Issuer != p.issuer || !cl.Audience.contains(p.URL) || cl.Subject == "" || p.isExpired(token) {
			return nil, fmt.Errorf("%w: iss, aud, sub or exp", auth.ErrInvalidToken)
		}
		return &auth.TokenInfo{Scopes: cl.Scopes(), Expiration: time.Unix(cl.Expiry, 0), UserID: cl.Subject}, nil
	}
	mw := auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{
		ResourceMetadataURL: p.PRMURL, Scopes: p.required, ClockSkew: p.leeway,
	})
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Body != nil {
			body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
			if err != nil {
				http.Error(w, "read body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var msg rpcPeek
			if json.Unmarshal(body, &msg) == nil && msg.Method == "tools/call" {
				p.mu.Lock()
				p.calls = append(p.calls, auth.TokenInfoFromContext(r.Context()).UserID)
				p.mu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	})
	inner := mw(record)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		inner.ServeHTTP(sw, r)
		p.count(func(c *RequestCounts) {
			c.Total++
			switch sw.status {
			case http.StatusUnauthorized:
				c.Unauthorized++
			case http.StatusForbidden:
				c.Forbidden++
			}
		})
	})
}

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Calls returns the sub of every authorized tools/call, in order.
func (p *ProtectedMCP) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// ToolCalls returns how many calls of the named tool ran.
func (p *ProtectedMCP) ToolCalls(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ran[name]
}

func (p *ProtectedMCP) ran1(name string) {
	p.mu.Lock()
	p.ran[name]++
	p.mu.Unlock()
}

// Requests returns request counts for the MCP endpoint.
func (p *ProtectedMCP) Requests() RequestCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// ChallengeInsufficientScope is the exact WWW-Authenticate header of a 403
// for a request needing scopes.
func (p *ProtectedMCP) ChallengeInsufficientScope(scopes []string) string {
	return challenge(p.PRMURL, "insufficient_scope", scopes)
}

func challenge(prm, errCode string, scopes []string) string {
	// 401: resource_metadata, scope. 403: error, scope, resource_metadata.
	var params []string
	if errCode != "" {
		params = append(params, fmt.Sprintf("error=%q", errCode))
	} else {
		params = append(params, fmt.Sprintf("resource_metadata=%q", prm))
	}
	if len(scopes) > 0 {
		params = append(params, fmt.Sprintf("scope=%q", strings.Join(scopes, " ")))
	}
	if errCode != "" {
		params = append(params, fmt.Sprintf("resource_metadata=%q", prm))
	}
	return "Bearer " + strings.Join(params, ", ")
}

func (p *ProtectedMCP) count(f func(*RequestCounts)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.requests)
}

// guard authenticates and authorizes every MCP request.
func (p *ProtectedMCP) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count(func(c *RequestCounts) { c.Total++ })
		cl, reason := p.authenticate(r)
		if reason == errNonce.Error() {
			p.count(func(c *RequestCounts) { c.Unauthorized++ })
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="nonce required"`)
			w.Header().Set("DPoP-Nonce", p.nonce)
			http.Error(w, "unauthorized: use_dpop_nonce", http.StatusUnauthorized)
			return
		}
		if cl == nil {
			p.count(func(c *RequestCounts) { c.Unauthorized++ })
			w.Header().Set("WWW-Authenticate", p.Challenge401)
			http.Error(w, "unauthorized: "+reason, http.StatusUnauthorized)
			return
		}
		granted := cl.Scopes()
		need := slices.Clone(p.required)
		var msg rpcPeek
		if r.Method == http.MethodPost && r.Body != nil {
			body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
			if err != nil {
				http.Error(w, "read body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			_ = json.Unmarshal(body, &msg) // batches/invalid JSON are the SDK's business
		}
		isCall := msg.Method == "tools/call"
		if isCall && msg.Params.Name == "write" && p.write != "" && !slices.Contains(need, p.write) {
			need = append(need, p.write)
		}
		for _, s := range need {
			if !slices.Contains(granted, s) {
				w.Header().Set("WWW-Authenticate", p.ChallengeInsufficientScope(need))
				if p.plain {
					w.Header().Set("WWW-Authenticate", p.Challenge401)
				}
				if p.scope401 {
					p.count(func(c *RequestCounts) { c.Unauthorized++ })
					http.Error(w, "missing scope", http.StatusUnauthorized)
					return
				}
				p.count(func(c *RequestCounts) { c.Forbidden++ })
				http.Error(w, "insufficient scope", http.StatusForbidden)
				return
			}
		}
		if isCall {
			p.mu.Lock()
			p.calls = append(p.calls, cl.Subject)
			p.mu.Unlock()
		}
		// Verified above (DPoP included); the go-sdk middleware below only
		// reads bearer tokens.
		if f := strings.Fields(r.Header.Get("Authorization")); len(f) == 2 {
			r.Header.Set("Authorization", "Bearer "+f[1])
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, cl)))
	})
}

type rpcPeek struct {
	Method string `json:"method"`
	Params struct {
		Name string `json:"name"`
	} `json:"params"`
}

// authenticate returns the verified claims or why there are none.
func (p *ProtectedMCP) authenticate(r *http.Request) (*Claims, string) {
	fields := strings.Fields(r.Header.Get("Authorization"))
	if len(fields) != 2 || (!strings.EqualFold(fields[0], "bearer") && !strings.EqualFold(fields[0], "dpop")) {
		return nil, "no bearer or DPoP token"
	}
	if p.requireDPoP && !strings.EqualFold(fields[0], "dpop") {
		return nil, "this server takes DPoP-bound tokens only"
	}
	var cl *Claims
	var err error
	if p.introspect != nil {
		cl, err = p.introspect(r.Context(), fields[1])
		if err == nil && cl == nil {
			err = errors.New("token not active at the authorization server (introspection)")
		}
	} else {
		cl, err = p.jwks.verifyJWT(r.Context(), fields[1])
	}
	if err != nil {
		return nil, err.Error()
	}
	// RFC 9449 §7: a DPoP-bound token needs the DPoP scheme and a proof of
	// its key; it is refused as a bearer token.
	if cl.Cnf.JKT != "" || strings.EqualFold(fields[0], "dpop") {
		if !strings.EqualFold(fields[0], "dpop") {
			return nil, "DPoP-bound token presented as a bearer token"
		}
		if err := p.checkDPoP(r, fields[1], cl.Cnf.JKT); err != nil {
			return nil, err.Error()
		}
		p.count(func(c *RequestCounts) { c.DPoP++ })
	}
	switch {
	case cl.Issuer != p.issuer:
		return nil, fmt.Sprintf("iss %q, want %q", cl.Issuer, p.issuer)
	case !p.anyAud && !cl.Audience.contains(p.URL):
		return nil, fmt.Sprintf("aud %q does not contain %q", []string(cl.Audience), p.URL)
	case cl.Expiry == 0:
		return nil, "no exp"
	case p.now().After(time.Unix(cl.Expiry, 0).Add(p.leeway)), p.isExpired(fields[1]):
		return nil, "token expired"
	case cl.Subject == "":
		return nil, "no sub"
	}
	return cl, ""
}

// Expire makes the server hold accessToken expired from now on, as a
// server whose clock runs ahead of the client's would: the client still
// thinks it fresh. Other tokens, a refreshed one included, are unaffected.
func (p *ProtectedMCP) Expire(accessToken string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expired[accessToken] = true
}

func (p *ProtectedMCP) isExpired(accessToken string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.expired[accessToken]
}
