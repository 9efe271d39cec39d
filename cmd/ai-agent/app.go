package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"time"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentcheck"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/controller"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/modeltext"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/origins"
	"github.com/rancher/ai-agent/internal/rancher"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/store"
	"github.com/rancher/ai-agent/internal/telemetry"
	"github.com/rancher/ai-agent/internal/uitools"
)

// app is everything one server process runs.
type app struct {
	env   env
	log   *slog.Logger
	model llm.Model
	// modelName is the provider's model setting for telemetry ("" when none).
	modelName string
	source    agentconfig.Source
	// cluster is the Kubernetes side when the agents come from a cluster
	// (source is then cluster), nil otherwise.
	cluster *cluster
	users   server.UserResolver
	store   interface {
		store.Store
		store.OAuthStore
	}

	extra map[string]http.Handler
	// mounted, when set, sees the server's routes once they are mounted.
	mounted func(map[string]http.Handler)
	// oauthKeys seal tokens (the first seals, all open); none leaves
	// OAUTH2 agents unavailable.
	oauthKeys [][]byte
	// uiTools offers the UI tools; nil when none are configured.
	uiTools *uitools.Registry
	// engine names the store's engine for the log (sqlite, postgres, memory).
	engine string
	// publicURL is Rancher's server-url setting ("" outside a cluster).
	publicURL string
	// rancherHC reaches Rancher (nil: the default client).
	rancherHC *http.Client
	// selfOrigins are the server's own origins (the demo's page).
	selfOrigins []string
	// mayConfigure, when set, replaces the Rancher access check (the demo).
	mayConfigure func(context.Context, agent.User) error
	// tel observes turns, model and tool calls, sign-ins; nil observes nothing.
	tel *telemetry.Telemetry
	// now is the clock of OAuth token lifetimes (nil: time.Now).
	now func() time.Time
}

// modelText is how model text is shown: neutralized (package modeltext),
// except in mock mode (LLM_MOCK_ENABLED=true), whose scripted chunks carry
// protocol tags on purpose (spec/ui-protocol.md §8).
func (a *app) modelText() modeltext.Policy {
	return modeltext.Policy{Trusted: a.env.LLMMockEnabled, MediaHosts: a.env.MediaHosts}
}

// originPolicy is the allow-list of browser origins: Rancher's server-url,
// RANCHER_URL, OAUTH_REDIRECT_URI, the server's own, and ALLOWED_ORIGINS.
func (a *app) originPolicy() (*origins.Policy, error) {
	if _, err := origins.New(a.env.AllowedOrigins...); err != nil {
		return nil, fmt.Errorf("ALLOWED_ORIGINS: %w", err)
	}
	p, err := origins.New(append([]string{a.publicURL, a.env.RancherURL, a.env.OAuthRedirectURI},
		append(a.selfOrigins, a.env.AllowedOrigins...)...)...)
	if err != nil {
		return nil, fmt.Errorf("allowed origins (server-url, RANCHER_URL, OAUTH_REDIRECT_URI): %w", err)
	}
	return p, nil
}

// accessCheck is who may make the agent fetch a URL they name: users who
// may update AIAgentConfigs, as Rancher says (answers cached for 30s per
// user), or everyone with RBAC_ENABLED=false.
func (a *app) accessCheck() (func(context.Context, agent.User) error, error) {
	if a.mayConfigure != nil {
		return a.mayConfigure, nil
	}
	if !a.env.RBACEnabled {
		a.log.Warn("RBAC_ENABLED=false: every user may make the agent fetch URLs (OAuth discovery and registration, model lists)")
		return server.AllowEveryone, nil
	}
	var r rancher.AccessReviewer = rancher.SelfSubjectAccessReviews{RancherURL: a.env.RancherURL, HTTPClient: a.rancherHC}
	if a.cluster != nil {
		r = a.cluster.accessReviewer()
	}
	cached := rancher.NewCachedAccess(r, 30*time.Second, nil)
	return func(ctx context.Context, u agent.User) error {
		return cached.Allow(ctx, rancher.User{ID: u.ID, Token: u.Token}, rancher.ConfigureAgents())
	}, nil
}

// oauthService builds the OAuth2 service over the app's store.
func (a *app) oauthService(tools *mcp.Manager, policy *origins.Policy) (*oauth.Service, error) {
	sealer, err := oauth.NewSealer(a.oauthKeys[0], a.oauthKeys[1:]...)
	if err != nil {
		return nil, err
	}
	a.log.Info("OAuth tokens and cookies are sealed", "keyId", sealer.KeyID(), "keys", len(a.oauthKeys))
	return oauth.NewService(oauth.ServiceOptions{
		Vault: oauth.NewVault(a.store, sealer, a.now), Sealer: sealer, Now: a.now, Agents: a.source,
		Endpoint: tools.EndpointURL, RedirectURI: a.env.OAuthRedirectURI, CIMDURL: a.env.OAuthClientMetadataURL,
		Origins: policy, BaseURL: cmp.Or(a.publicURL, a.env.RancherURL),
		InsecureSkipTLS: a.env.InsecureSkipTLS, Network: a.env.Network, Logger: a.log, Observer: a.oauthObserver(),
		UserExists: a.rancherUserExists(),
	})
}

func (a *app) oauthObserver() oauth.Observer {
	if a.tel == nil {
		return nil
	}
	return a.tel.OAuth()
}

func (a *app) connObserver() server.ConnObserver {
	if a.tel == nil {
		return nil
	}
	return a.tel
}

// run serves on ln until ctx ends, then drains open chats.
func (a *app) run(ctx context.Context, ln net.Listener, onReady func(addr string)) error {
	tools := mcp.NewManager(mcp.Options{
		Logger: a.log, InsecureSkipTLS: a.env.InsecureSkipTLS, RancherMCPURL: a.env.MCPURL, Network: a.env.Network,
	})
	defer tools.Close()
	creds := agent.CredentialsByAuthType{RancherURL: a.env.RancherURL}
	var auth agent.Authenticator
	wiring := kubeWiring{Forget: []controller.Forgetter{tools}, RancherURL: a.env.RancherURL,
		RancherToken: a.env.RancherAPIToken, InsecureSkipTLS: a.env.InsecureSkipTLS, MCPURL: a.env.MCPURL}
	policy, err := a.originPolicy()
	if err != nil {
		return err
	}
	mayConfigure, err := a.accessCheck()
	if err != nil {
		return err
	}
	routes := maps.Clone(a.extra)
	if routes == nil {
		routes = map[string]http.Handler{}
	}
	var oauthSvc *oauth.Service
	if len(a.oauthKeys) > 0 {
		svc, err := a.oauthService(tools, policy)
		if err != nil {
			return err
		}
		go svc.Run(ctx)
		oauthSvc = svc
		creds.OAuth, auth = server.OAuthAgent{Service: svc}, server.OAuthAgent{Service: svc}
		wiring.Forget, wiring.OAuth = append(wiring.Forget, svc), svc
		maps.Copy(routes, svc.Routes(server.OAuthUser))
	} else {
		creds.OAuth = noOAuthKey{}
	}
	opts := agent.Options{Model: a.model, Tools: agent.ToolProvider(tools), Store: a.store, Logger: a.log, Credentials: creds, Auth: auth,
		Summarization: a.env.Summarization, ModelText: a.modelText(), SupervisorPrompt: a.env.SupervisorPrompt}
	if a.tel != nil {
		opts.Model, opts.Tools = observedModel(a.tel, a.model, a.env.ActiveLLM, a.modelName), a.tel.Tools(tools)
	}
	if a.uiTools != nil { // a nil *Registry must not become a non-nil interface
		opts.UITools = a.uiTools
	}
	if a.env.LLMMockEnabled {
		a.log.Warn("LLM_MOCK_ENABLED=true: model output is trusted in mock mode; protocol tags in the model's text reach the browser as frames")
	}
	runner := agent.New(opts)
	maps.Copy(routes, modelsRoutes(a.env, a.log))
	var filter func(context.Context, agent.User, []agentconfig.Agent) ([]agentconfig.Agent, error)
	if a.cluster != nil {
		if err := a.cluster.startController(ctx, wiring); err != nil {
			return err
		}
		kubeRoutes, f, err := a.cluster.routes(a.env, a.rancherHC)
		if err != nil {
			return err
		}
		maps.Copy(routes, kubeRoutes)
		filter = f
	}
	if oauthSvc != nil {
		maps.Copy(routes, oauthSvc.ConnectionRoutes(server.OAuthUser, connectionChecks(mayConfigure, filter)))
	}
	srv := server.New(server.Options{
		Users: a.users, Agents: a.source, Runner: runner, Store: a.store, Logger: a.log,
		Routes: routes, FilterAgents: filter, Conn: chat.Options{ShutdownGrace: a.env.ShutdownGrace},
		Origins: policy, MayConfigure: mayConfigure,
		Observer:        a.connObserver(),
		MaxChatsPerUser: a.env.MaxChatsPerUser,
		ModelText:       a.modelText(),
		AgentStatus:     a.agentStatus,
	})
	if a.mounted != nil {
		a.mounted(srv.Routes())
	}
	a.logAgents(ctx)
	if u, ok := a.model.(llm.Unavailable); ok {
		a.log.Error("the LLM is not configured: every chat will report it", "error", u.Err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	srv.SetReady(true)
	a.log.Info("ai-agent listening", "addr", ln.Addr().String(), "storage", a.engine, "storageType", a.store.StorageType(),
		"allowedOrigins", policy.List(), "version", buildVersion())
	if onReady != nil {
		onReady(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down: finishing open turns")
	dctx, cancel := context.WithTimeout(context.Background(), a.env.ShutdownGrace+5*time.Second)
	defer cancel()
	if err := srv.Drain(dctx); err != nil {
		a.log.Warn("some chats did not close in time", "error", err)
	}
	if err := hs.Shutdown(dctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// errNoOAuthKey is how an OAUTH2 agent reports, in <chat-metadata>, that
// the server cannot keep OAuth tokens.
var errNoOAuthKey = errors.New("OAuth2 sign-in is unavailable: this server has no encryption key for OAuth tokens. An administrator must set OAUTH_ENCRYPTION_KEY (e.g. openssl rand -base64 32) and restart the agent")

// noOAuthKey is the credential provider of OAUTH2 agents without a key.
type noOAuthKey struct{}

func (noOAuthKey) Credentials(context.Context, agentconfig.Agent, agent.User) (mcp.Credentials, error) {
	return nil, &agent.UserError{Err: errNoOAuthKey, Sentence: errNoOAuthKey.Error()}
}

// agentStatus is the status of an agent's configuration ("active" or
// "error") and, for "error", the reason with its fix (see agentcheck).
func (a *app) agentStatus(ag agentconfig.Agent) (status, reason string) {
	status, reason = agentcheck.Status(ag, agentcheck.Options{RancherMCPURL: a.env.MCPURL})
	if status == agentcheck.StatusActive && ag.Spec.AuthenticationType == v1alpha1.AuthOAuth2 && len(a.oauthKeys) == 0 {
		return agentcheck.StatusError, "OAUTH_ENCRYPTION_KEY: this server has no key to keep OAuth tokens. Fix: set it to the output of `openssl rand -base64 32` and restart."
	}
	return status, reason
}

// logAgents logs one line per agent at start: name, authentication type,
// status and reason, so that a broken agent is in the log before a user
// finds it.
func (a *app) logAgents(ctx context.Context) {
	list, err := a.source.Agents(ctx)
	if err != nil {
		a.log.Error("listing agents failed", "error", err)
		return
	}
	if len(list) == 0 {
		a.log.Warn("no agent is enabled: every chat will say so")
	}
	for _, ag := range list {
		status, reason := a.agentStatus(ag)
		args := []any{"name", ag.Name, "authType", string(ag.Spec.AuthenticationType), "status", status}
		if reason != "" {
			a.log.Warn("agent", append(args, "reason", reason)...)
			continue
		}
		a.log.Info("agent", args...)
	}
}
