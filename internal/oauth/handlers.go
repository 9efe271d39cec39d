package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/oauthproto"
	"github.com/rancher/ai-agent/internal/outbound"
)

// UserFunc returns the Rancher user of a request: the one the caller's
// user check already resolved, else resolved from the request (the R_SESS
// cookie) — the callback is not behind that check.
type UserFunc func(r *http.Request) (Identity, error)

// Routes are the OAuth endpoints, by net/http pattern: the UI's
// /v1/api/oauth2/* and the seed's original /oauth/* forms.
type Routes struct {
	// Protected are the UI's JSON endpoints: mount them behind the caller's
	// user check (server.Options.Protected), which answers 401 without a
	// Rancher session.
	Protected map[string]http.Handler
	// Public are mounted as is: the authorization server's redirect, which
	// finds the user itself and answers with a page, and our Client ID
	// Metadata Document (served only when OAUTH_CLIENT_METADATA_URL is set),
	// which authorization servers fetch.
	Public map[string]http.Handler
}

// Routes returns the OAuth endpoints.
func (s *Service) Routes(user UserFunc) Routes {
	h := &handlers{s: s, user: user}
	return Routes{
		Protected: map[string]http.Handler{
			"GET /v1/api/oauth2/metadata":              h.auth(h.metadata("mcpUrl")),
			"POST /v1/api/oauth2/dynamic-registration": h.auth(h.registration(false)),
			"POST /v1/api/oauth2/refresh":              h.auth(h.refresh),
			"GET /oauth/metadata":                      h.auth(h.metadata("mcp_url")),
			"GET /oauth/dynamic-registration":          h.auth(h.registration(true)),
		},
		Public: map[string]http.Handler{
			"GET /v1/api/oauth2/callback":             http.HandlerFunc(h.callback),
			"GET /v1/api/oauth2/client-metadata.json": http.HandlerFunc(h.clientMetadata),
		},
	}
}

type handlers struct {
	s    *Service
	user UserFunc
}

type identityKey struct{}

// auth gives next the identity of the user the caller's user check
// resolved; a route mounted without that check still refuses a request
// without a session.
func (h *handlers) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := h.user(r)
		if err != nil {
			httpapi.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Unauthorized"})
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

func identity(r *http.Request) Identity {
	id, _ := r.Context().Value(identityKey{}).(Identity)
	return id
}

// metadata serves discovery for the settings form: {metadataEndpoint,
// scopesSupported}, or JSON null when discovery fails.
func (h *handlers) metadata(param string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mcpURL := r.URL.Query().Get(param)
		if mcpURL == "" {
			httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "Missing " + param})
			return
		}
		d, err := oauthproto.Discover(r.Context(), h.s.guarded, mcpURL, nil)
		if err != nil || d.MetadataURL == "" {
			// JSON null whatever went wrong (ui-protocol.md §3.3): the
			// reason is for the log only, so no scan oracle.
			h.s.log.Info("metadata discovery failed", "mcpUrl", mcpURL, "reason", safeReason(err), "error", err)
			httpapi.WriteJSON(w, http.StatusOK, nil)
			return
		}
		scopes := d.ScopesSupported
		if scopes == nil {
			scopes = []string{}
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"metadataEndpoint": d.MetadataURL, "scopesSupported": scopes})
	}
}

// registrationFailed is the one answer of a failed registration.
const registrationFailed = "Dynamic Client Registration failed: the authorization server metadata could not be read or the server refused the registration. The agent's log has the reason."

// registration registers a client for the settings form (RFC 7591); the
// registration endpoint must be on the metadata endpoint's origin.
func (h *handlers) registration(legacy bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var metadataURL string
		if legacy {
			metadataURL = r.URL.Query().Get("metadata_endpoint")
		} else {
			var body struct {
				MetadataEndpoint string `json:"metadataEndpoint"`
			}
			if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil {
				httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "Body must be JSON {\"metadataEndpoint\": url}"})
				return
			}
			metadataURL = body.MetadataEndpoint
		}
		if metadataURL == "" {
			httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "Missing metadataEndpoint"})
			return
		}
		as, err := oauthproto.FetchASMetadata(r.Context(), h.s.guarded, metadataURL)
		var ci oauthproto.ClientInfo
		if err == nil {
			ci, err = oauthproto.Register(r.Context(), h.s.guarded, as, oauthproto.RegistrationRequest{
				RedirectURIs: []string{h.s.RedirectURI(identity(r).Host)}, SameOriginAs: metadataURL,
			})
		}
		if err != nil {
			// One answer whatever went wrong, so that the endpoint cannot
			// tell a caller which addresses and ports answer: the reason
			// is for the log only.
			h.s.log.Info("dynamic client registration failed", "metadataEndpoint", metadataURL, "reason", safeReason(err), "error", err)
			httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": registrationFailed})
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"clientId": ci.ClientID, "clientSecret": ci.ClientSecret})
	}
}

// callback is the popup's landing page: it checks the state (single use,
// bound to the user who started the flow) and iss, exchanges the code with
// the PKCE verifier and resource, stores the tokens and sets the sealed
// cookies. The user is resolved before the state is looked up, and the
// state is looked up as that user's: a request without a session, or with
// another user's, consumes nothing, so the real user can still finish.
func (h *handlers) callback(w http.ResponseWriter, r *http.Request) {
	const fail = "Sign-in failed"
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		writePage(w, http.StatusBadRequest, false, fail, "The sign-in response is incomplete. Close this window and try again.")
		return
	}
	id, err := h.user(r)
	if err != nil || id.UserID == "" {
		h.s.log.Info("oauth callback without a Rancher session refused")
		writePage(w, http.StatusUnauthorized, false, fail, "Sign in to Rancher in this browser, then try again.")
		return
	}
	flow, err := h.s.o.Vault.TakePending(r.Context(), id.UserID, state)
	if err != nil {
		if !errors.Is(err, ErrNoPending) {
			h.s.log.Warn("oauth callback: reading the pending sign-in failed", "error", err)
		}
		writePage(w, http.StatusBadRequest, false, fail, "This sign-in is unknown, expired, already used, replaced by a newer one, or was started by another user. Close this window and try again.")
		return
	}
	code, err := oauthproto.ParseCallback(q, flow.Pending, &flow.AS)
	if err != nil {
		msg := "The authorization server did not grant access. Close this window and try again."
		if errors.Is(err, oauthproto.ErrIssMismatch) || errors.Is(err, oauthproto.ErrIssMissing) {
			msg = "The response did not come from the expected authorization server."
		}
		writePage(w, http.StatusBadRequest, false, fail, msg)
		return
	}
	a, ok := h.s.agentByName(r.Context(), flow.Agent)
	if !ok {
		writePage(w, http.StatusBadRequest, false, fail, "The agent is no longer configured.")
		return
	}
	hc, err := h.s.httpClient(a)
	if err != nil {
		writePage(w, http.StatusInternalServerError, false, fail, "The agent's configuration is invalid.")
		return
	}
	tok, err := oauthproto.Exchange(r.Context(), h.s.dpopClient(hc, flow.DPoPKey), flow.Pending, code, q.Get("iss"), flow.Client, &flow.AS)
	if errors.Is(err, oauthproto.ErrInvalidClient) {
		// Our stored registration was purged by the AS: the next sign-in registers again.
		_ = h.s.o.Vault.DeleteClient(r.Context(), flow.Client.Issuer, flow.RedirectURI)
	}
	if err != nil {
		h.s.log.Warn("oauth code exchange failed", "agent", flow.Agent, "error", err)
		writePage(w, http.StatusBadGateway, false, fail, "The authorization server did not issue a token. Close this window and try again.")
		return
	}
	d := &oauthproto.Discovery{Resource: flow.Resource, Issuer: flow.Issuer, AuthServer: flow.AS}
	t := fromOAuth2(tok, d, flow.Client, flow.Scopes, h.s.o.Now())
	t.DPoPKey = flow.DPoPKey
	key := flow.TokenKey()
	if err := h.s.putLocked(r.Context(), key, t); err != nil {
		writePage(w, http.StatusInternalServerError, false, fail, "The token could not be stored.")
		return
	}
	if flow.TokenAgent == "" { // the IdP sign-in's tokens are not the agent's
		h.s.setCookies(w, key, t, flow.CookiePath)
	}
	writePage(w, http.StatusOK, true, "Signed in", "You can close this window.")
}

// putLocked stores t under the lock that refreshes and re-sealing take,
// so that none of them overwrites it with older tokens.
func (s *Service) putLocked(ctx context.Context, key TokenKey, t TokenSet) error {
	unlock, err := s.o.Vault.Lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	return s.o.Vault.Put(ctx, key, t)
}

func (s *Service) setCookies(w http.ResponseWriter, key TokenKey, t TokenSet, path string) {
	http.SetCookie(w, s.sealedCookie(cookieAccess, key, t.AccessToken, path))
	if t.RefreshToken != "" {
		http.SetCookie(w, s.sealedCookie(cookieRefresh, key, t.RefreshToken, path))
	}
}

// refresh redeems the caller's refresh token for an agent (from the vault,
// else from the sealed cookie), rotates it and answers {"status":"ok"}.
func (h *handlers) refresh(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Agent string `json:"agent"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil || body.Agent == "" {
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "Body must be JSON {\"agent\": name}"})
		return
	}
	a, ok := h.s.agentByName(r.Context(), body.Agent)
	if !ok {
		httpapi.WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "Unknown OAuth2 agent"})
		return
	}
	id := identity(r)
	cfg, err := ConfigFromSecret(a.AuthSecret)
	if err != nil {
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "The agent's OAuth2 secret is invalid"})
		return
	}
	d, err := h.s.discover(r.Context(), a, cfg, Refusal{})
	if err != nil {
		httpapi.WriteJSON(w, http.StatusBadGateway, map[string]string{"detail": "The authorization server cannot be reached"})
		return
	}
	key := TokenKey{User: id.UserID, Agent: a.Name, Issuer: d.Issuer}
	cur, _ := h.s.o.Vault.Get(r.Context(), key)
	rt := h.s.openCookie(r.Cookies(), cookieRefresh, key)
	if cur.RefreshToken == "" && rt == "" {
		httpapi.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": "No refresh token available"})
		return
	}
	redirectURI := h.s.RedirectURI(id.Host)
	t, err := h.s.refresh(r.Context(), a, key, d, cfg, refreshOpts{RT: rt, Stale: cur.AccessToken, RedirectURI: redirectURI})
	if err != nil {
		code := http.StatusBadGateway
		if errors.Is(err, oauthproto.ErrInvalidGrant) || errors.Is(err, ErrNoToken) {
			code = http.StatusUnauthorized
		}
		httpapi.WriteJSON(w, code, map[string]string{"detail": "Token refresh failed"})
		return
	}
	h.s.setCookies(w, key, t, cookiePath(redirectURI))
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// safeReason names the kind of failure without echoing remote content.
func safeReason(err error) string {
	for _, c := range []struct {
		err error
		msg string
	}{
		{outbound.ErrBlockedAddress, "the address is not allowed"},
		{outbound.ErrCrossOriginRedirect, "a redirect to another origin was refused"},
		{outbound.ErrBodyTooLarge, "the response is too large"},
		{oauthproto.ErrInvalidURL, "invalid URL"},
		{oauthproto.ErrMetadataNotFound, "no metadata document found"},
		{oauthproto.ErrInvalidMetadata, "invalid metadata document"},
		{oauthproto.ErrPKCEUnsupported, "the server does not support PKCE S256"},
		{oauthproto.ErrRegistration, "the server refused the registration or does not support it"},
		{oauthproto.ErrTransient, "the server cannot be reached"},
	} {
		if errors.Is(err, c.err) {
			return c.msg
		}
	}
	return "unexpected error"
}

// clientMetadata serves the Client ID Metadata Document whose URL is
// ServiceOptions.CIMDURL (draft-ietf-oauth-client-id-metadata-document).
func (h *handlers) clientMetadata(w http.ResponseWriter, r *http.Request) {
	if h.s.o.CIMDURL == "" {
		httpapi.WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "No client metadata document is configured"})
		return
	}
	redirect := h.s.RedirectURI(httpapi.RequestHost(r))
	appType, _ := oauthproto.ApplicationType([]string{redirect})
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"client_id": h.s.o.CIMDURL, "client_name": oauthproto.DefaultClientName,
		"redirect_uris": []string{redirect}, "grant_types": []string{"authorization_code", "refresh_token"},
		"response_types": []string{"code"}, "token_endpoint_auth_method": oauthproto.AuthMethodNone,
		"application_type": appType,
	})
}
