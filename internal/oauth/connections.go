package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/oauthproto"
	"github.com/rancher/ai-agent/internal/store"
)

// Connection statuses.
const (
	StatusConnected = "connected"
	StatusSignedOut = "signed-out"
	StatusExpired   = "expired"
	StatusError     = "error"
)

// touchEvery bounds how often one replica writes a token's last use to the
// store: lastUsedAt is exact to a minute, and a busy token costs one UPDATE
// a minute per replica, not one per MCP request.
const touchEvery = time.Minute

// Connection is what the agent holds for one user and one OAUTH2 agent
// (GET /v1/api/oauth2/connections). It never carries a token, key, client
// secret or code.
type Connection struct {
	Agent        string     `json:"agent"`
	Status       string     `json:"status"`
	GrantType    string     `json:"grantType"`
	Issuer       string     `json:"issuer"`
	Scopes       []string   `json:"scopes"`
	TokenBinding string     `json:"tokenBinding"`
	ExpiresAt    *time.Time `json:"expiresAt"`
	Refreshable  bool       `json:"refreshable"`
	LastUsedAt   *time.Time `json:"lastUsedAt"`
	// Shared: one token of the agent, used for all its users
	// (client-credentials, workload-identity); a user cannot revoke it.
	Shared bool   `json:"shared,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Revocation is the answer of a sign-out: the stored tokens are gone
// either way; RevokedAtServer says whether the authorization server
// confirmed their revocation (RFC 7009), Reason why not.
type Revocation struct {
	RevokedAtServer bool   `json:"revokedAtServer"`
	Reason          string `json:"reason,omitempty"`
	// Revoked counts the connections ended (administrative bulk revocation).
	Revoked int `json:"revoked"`
}

// touch records a use of key's token: in memory on every use, in the store
// (lastUsedAt) at most once per touchEvery per replica.
func (s *Service) touch(ctx context.Context, key TokenKey) {
	id, now := key.id(), s.o.Now()
	s.mu.Lock()
	last, ok := s.used[id]
	due := !ok || now.Sub(last) >= touchEvery || now.Before(last)
	if due {
		s.used[id] = now
	}
	s.mu.Unlock()
	if due {
		if err := s.o.Vault.st.TouchToken(ctx, id, now); err != nil {
			s.log.Debug("recording a token's use failed", "agent", key.Agent, "error", err)
		}
	}
}

// oauthAgents are the enabled OAUTH2 agents.
func (s *Service) oauthAgents(ctx context.Context) ([]agentconfig.Agent, error) {
	list, err := s.o.Agents.Agents(ctx)
	if err != nil {
		return nil, fmt.Errorf("oauth: agents: %w", err)
	}
	return slices.DeleteFunc(slices.Clone(list), func(a agentconfig.Agent) bool {
		return a.Spec.AuthenticationType != v1alpha1.AuthOAuth2
	}), nil
}

// Connections lists user's connection to each of agents (the OAUTH2 agents
// the user may use), from the store: no authorization server is asked.
func (s *Service) Connections(ctx context.Context, user string, agents []agentconfig.Agent) ([]Connection, error) {
	rows, err := s.o.Vault.st.ListTokens(ctx, store.TokenFilter{User: toColumn(user)})
	if err != nil {
		return nil, fmt.Errorf("oauth: connections: %w", err)
	}
	out := []Connection{}
	for _, a := range agents {
		if a.Spec.AuthenticationType != v1alpha1.AuthOAuth2 {
			continue
		}
		c := Connection{Agent: a.Name, Status: StatusSignedOut, Scopes: []string{}, TokenBinding: "bearer"}
		cfg, err := ConfigFromSecret(a.AuthSecret)
		c.GrantType = cmpOr(cfg.GrantType, GrantAuthorizationCode)
		if err != nil {
			c.Status, c.Error = StatusError, "The agent's OAuth2 secret is invalid; an administrator must fix it."
			out = append(out, c)
			continue
		}
		owner := user
		if cfg.actsAsAgent() {
			owner, c.Shared, c.Status = agentUser, true, StatusConnected
			if rows, err = s.o.Vault.st.ListTokens(ctx, store.TokenFilter{User: toColumn(agentUser), Agent: a.Name}); err != nil {
				return nil, fmt.Errorf("oauth: connections: %w", err)
			}
		}
		for _, r := range rows {
			k := keyOf(r)
			if k.User != owner || k.Agent != a.Name {
				continue
			}
			t, _, err := s.o.Vault.open(k, r.Blob)
			if err != nil {
				c.Status, c.Error = StatusError, "The stored sign-in cannot be read (the encryption key changed); sign out and sign in again."
				c.Issuer = k.Issuer
				break
			}
			c.Issuer, c.Refreshable = k.Issuer, t.RefreshToken != ""
			if t.Scopes != nil {
				c.Scopes = t.Scopes
			}
			if strings.EqualFold(t.TokenType, oauthproto.TokenTypeDPoP) && len(t.DPoPKey) > 0 {
				c.TokenBinding = "dpop"
			}
			if !t.Expiry.IsZero() {
				e := t.Expiry.UTC()
				c.ExpiresAt = &e
			}
			if !r.LastUsed.IsZero() {
				u := r.LastUsed
				c.LastUsedAt = &u
			}
			switch {
			case c.Shared:
			case t.AccessToken == "" || (t.Expired(s.o.Now(), 0) && t.RefreshToken == ""):
				c.Status = StatusExpired
			default:
				c.Status = StatusConnected
			}
			break
		}
		out = append(out, c)
	}
	return out, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// RevokeOptions say whose tokens a revocation ends and who asks.
type RevokeOptions struct {
	User  string // whose tokens ("": every user's, for Agent)
	Agent string // which agent's ("": every agent's of User)
	// Issuer, when set, only ends the tokens of that authorization server.
	Issuer string
	Actor  string // who acted: the user, an administrator, ActorSystem
	// Event is OpRevoke or OpAdminRevoke.
	Event  string
	Reason string // why, for the audit line (the system's revocations)
	// Skip, when set, keeps the rows it reports true for.
	Skip func(TokenKey) bool
}

// Revoke ends the stored connections o selects: each token is revoked at
// its authorization server's revocation_endpoint (RFC 7009: the refresh
// token, then the access token, authenticated as the client they were
// issued to) when it advertises one, and deleted from the store whatever
// the server says, so that the next use asks the user to sign in again on
// every replica (the store is the truth: no replica keeps a copy).
func (s *Service) Revoke(ctx context.Context, o RevokeOptions) (Revocation, error) {
	if o.User == "" && o.Agent == "" {
		return Revocation{}, errors.New("oauth: a revocation names a user or an agent")
	}
	rows, err := s.o.Vault.st.ListTokens(ctx, store.TokenFilter{User: toColumn(o.User), Agent: toColumn(o.Agent)})
	if err != nil {
		return Revocation{}, fmt.Errorf("oauth: revocation: %w", err)
	}
	res := Revocation{RevokedAtServer: true}
	for _, r := range rows {
		k := keyOf(r)
		if (o.Issuer != "" && k.Issuer != o.Issuer) || (o.Skip != nil && o.Skip(k)) {
			continue
		}
		ok, reason, err := s.revokeKey(ctx, k, o)
		if err != nil {
			return res, err
		}
		res.Revoked++
		if !ok && res.RevokedAtServer {
			res.RevokedAtServer, res.Reason = false, reason
		}
	}
	if res.Revoked == 0 {
		res.RevokedAtServer, res.Reason = false, "Nothing was stored for this connection."
	}
	return res, nil
}

// revokeKey revokes and deletes the tokens of k under its refresh lock, so
// that a refresh running meanwhile cannot store new tokens after it.
func (s *Service) revokeKey(ctx context.Context, k TokenKey, o RevokeOptions) (revoked bool, reason string, err error) {
	ctx, end := s.observe(ctx, o.Event, k.Agent)
	result := ResultDeletedLocally
	defer func() {
		outcome := OutcomeOK
		if err != nil {
			outcome, result = OutcomeError, OutcomeError
		}
		end(nil)
		if outcome == OutcomeError {
			reason = "the stored tokens could not be deleted"
		}
		s.audit(ctx, AuditEvent{Event: o.Event, User: k.User, Agent: k.Agent, Issuer: k.Issuer, Actor: o.Actor,
			Result: result, Reason: strings.TrimSpace(o.Reason + " " + reasonIf(!revoked, reason))})
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	unlock, err := s.o.Vault.Lock(ctx, k)
	if err != nil {
		return false, "", fmt.Errorf("oauth: revocation lock: %w", err)
	}
	defer unlock()
	t, gerr := s.o.Vault.Get(ctx, k)
	switch {
	case errors.Is(gerr, ErrNoToken):
		return false, "Nothing was stored for this connection.", nil // revoked meanwhile (another replica)
	case gerr != nil:
		reason = "The stored tokens could not be read, so they could not be revoked at the authorization server."
	default:
		revoked, reason = s.revokeAtServer(ctx, k, t)
	}
	if err := s.o.Vault.Delete(ctx, k); err != nil {
		return false, "", err
	}
	s.mu.Lock()
	delete(s.refreshed, k.id())
	delete(s.used, k.id())
	s.mu.Unlock()
	if revoked {
		result = ResultRevoked
	}
	return revoked, reason, nil
}

func reasonIf(b bool, r string) string {
	if b {
		return r
	}
	return ""
}

// revokeAtServer revokes t's refresh token and access token at k's
// issuer. Its metadata comes from the agent's discovery when the agent
// still uses that issuer, else from the issuer itself (the agent is gone
// or moved to another server).
func (s *Service) revokeAtServer(ctx context.Context, k TokenKey, t TokenSet) (bool, string) {
	hc := s.guarded
	var as *oauthproto.ASMetadata
	if a, ok := s.agentByName(ctx, k.Agent); ok {
		if c, err := s.httpClient(a); err == nil {
			hc = c
		}
		if cfg, err := ConfigFromSecret(a.AuthSecret); err == nil {
			if d, err := s.discover(ctx, a, cfg, Refusal{}); err == nil && d.Issuer == k.Issuer {
				as = &d.AuthServer
			}
		}
	}
	if as == nil {
		m, _, err := oauthproto.FetchASMetadataForIssuer(ctx, hc, k.Issuer)
		if err != nil {
			s.log.Info("revocation: the authorization server's metadata cannot be read", "agent", shownAgent(k.Agent), "issuer", k.Issuer, "error", err)
			return false, "The authorization server could not be reached; the tokens were deleted here but stay valid there until they expire."
		}
		as = m
	}
	if as.RevocationEndpoint == "" {
		return false, "The authorization server has no revocation endpoint; the tokens were deleted here but stay valid there until they expire."
	}
	ci := t.Client
	if ci.ClientID == "" {
		return false, "The client the tokens were issued to is unknown; the tokens were deleted here."
	}
	for _, tk := range []struct{ value, hint string }{{t.RefreshToken, oauthproto.HintRefreshToken}, {t.AccessToken, oauthproto.HintAccessToken}} {
		if tk.value == "" {
			continue
		}
		if err := oauthproto.Revoke(ctx, hc, as, ci, tk.value, tk.hint); err != nil {
			s.log.Info("revocation refused or failed", "agent", shownAgent(k.Agent), "issuer", k.Issuer, "token", tk.hint, "error", err)
			return false, "The authorization server did not confirm the revocation; the tokens were deleted here."
		}
	}
	return true, ""
}

// sweepAgents revokes and deletes the tokens of agents that are no longer
// OAUTH2 agents (deleted, or another authentication type), and those an
// agent obtained from an authorization server it no longer uses.
func (s *Service) sweepAgents(ctx context.Context) {
	agents, err := s.oauthAgents(ctx)
	if err != nil {
		s.log.Warn("oauth agent sweep: listing agents failed", "error", err)
		return
	}
	rows, err := s.o.Vault.st.ListTokens(ctx, store.TokenFilter{})
	if err != nil {
		s.log.Warn("oauth agent sweep: listing tokens failed", "error", err)
		return
	}
	type target struct{ agent, issuer, reason string }
	var todo []target
	seen := map[target]bool{}
	for _, r := range rows {
		k := keyOf(r)
		if k.Agent == idpAgent {
			continue // a user's enterprise sign-in belongs to no one agent
		}
		i := slices.IndexFunc(agents, func(a agentconfig.Agent) bool { return a.Name == k.Agent })
		tg := target{agent: k.Agent, issuer: k.Issuer}
		if i < 0 {
			tg.reason = "the agent was deleted"
		} else {
			a := agents[i]
			cfg, err := ConfigFromSecret(a.AuthSecret)
			if err != nil {
				continue
			}
			d, err := s.discover(ctx, a, cfg, Refusal{})
			if err != nil || d.Issuer == k.Issuer {
				continue // unknown (the server is down) or unchanged: keep
			}
			tg.reason = "the agent's authorization server changed"
		}
		if !seen[tg] {
			seen[tg] = true
			todo = append(todo, tg)
		}
	}
	for _, tg := range todo {
		if _, err := s.Revoke(ctx, RevokeOptions{Agent: tg.agent, Issuer: tg.issuer, Actor: ActorSystem, Event: OpAdminRevoke, Reason: tg.reason}); err != nil {
			s.log.Warn("oauth agent sweep: revocation failed", "agent", tg.agent, "error", err)
		}
	}
}

// sweepUsers revokes and deletes the tokens of Rancher users who no
// longer exist (UserExists says so).
func (s *Service) sweepUsers(ctx context.Context) {
	if s.o.UserExists == nil {
		return
	}
	users, err := s.o.Vault.st.TokenUsers(ctx)
	if err != nil {
		s.log.Warn("oauth user sweep: listing users failed", "error", err)
		return
	}
	for _, u := range users {
		id := fromColumn(u)
		if id == agentUser {
			continue
		}
		exists, err := s.o.UserExists(ctx, id)
		if err != nil || exists {
			continue // unknown: keep
		}
		if _, err := s.Revoke(ctx, RevokeOptions{User: id, Actor: ActorSystem, Event: OpAdminRevoke, Reason: "the Rancher user no longer exists"}); err != nil {
			s.log.Warn("oauth user sweep: revocation failed", "user", id, "error", err)
		}
	}
}

// sweepOwners is the periodic part of Run: tokens of agents and users
// that are gone.
func (s *Service) sweepOwners(ctx context.Context) {
	s.sweepAgents(ctx)
	s.sweepUsers(ctx)
}
