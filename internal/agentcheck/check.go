package agentcheck

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauth"
)

// Problem is one thing wrong with an agent, worded for the administrator.
type Problem struct {
	// Agent is the AIAgentConfig's metadata.name.
	Agent string
	// Field is where the problem is: a spec field, or a Secret and its key.
	Field string
	// Problem says what is wrong, Fix what to do about it; both sentences.
	Problem string
	Fix     string
}

// String is the problem on one line: agent, field, what and the fix.
func (p Problem) String() string {
	return fmt.Sprintf("agent %q: %s: %s Fix: %s", p.Agent, p.Field, p.Problem, p.Fix)
}

// Reason is the problem without the agent's name (an agent's status).
func (p Problem) Reason() string { return p.Field + ": " + p.Problem + " Fix: " + p.Fix }

// Options are what an agent's check depends on besides the agent.
type Options struct {
	// RancherMCPURL is MCP_URL: it gives RANCHER agents their URL.
	RancherMCPURL string
}

// Status values of an agent (the <chat-metadata> values).
const (
	StatusActive = "active"
	StatusError  = "error"
)

// Status is an agent's status at start: "active" and no reason, or
// "error" and the first problem's reason.
func Status(a agentconfig.Agent, o Options) (status, reason string) {
	if ps := Agent(a, o); len(ps) > 0 {
		return StatusError, ps[0].Reason()
	}
	return StatusActive, ""
}

// GrantTypes are the valid values of an OAUTH2 Secret's grantType.
func GrantTypes() []string {
	return []string{oauth.GrantAuthorizationCode, oauth.GrantClientCredentials, oauth.GrantWorkloadIdentity, oauth.GrantEnterprise}
}

// oauthSecretKeys are the keys an OAUTH2 Secret may hold (oauth.ConfigFromSecret
// and the interop helpers' tokenBinding); any other key is a typo.
func oauthSecretKeys() []string {
	return []string{
		"clientID", "clientId", "client_id", "clientSecret", "client_secret",
		"metadataEndpoint", "metadata_endpoint", "scope", "scopes", "grantType", "grant_type",
		"privateKey", "private_key", "signingAlgorithm", "signing_algorithm", "tokenPath", "token_path",
		"audience", "idpIssuer", "idp_issuer", "idpClientID", "idp_client_id", "idpClientSecret", "idp_client_secret",
		"tokenBinding", "token_binding",
	}
}

// Agent checks one agent: its MCP URL, its authentication Secret (present,
// with the keys its authentication type reads, valid values) and its CA
// bundle. Problems come in that order.
func Agent(a agentconfig.Agent, o Options) []Problem {
	var ps []Problem
	add := func(field, problem, fix string) {
		ps = append(ps, Problem{Agent: a.Name, Field: field, Problem: problem, Fix: fix})
	}
	typ := a.Spec.AuthenticationType
	if typ == "" {
		typ = v1alpha1.AuthNone
	}
	checkURL(a, typ, o, add)

	ref := a.Spec.AuthenticationSecret
	secretName := ref[strings.LastIndex(ref, "/")+1:]
	secretField := fmt.Sprintf("Secret %q", secretName)
	switch {
	case ref == "" && needsSecret(typ):
		add("spec.authenticationSecret", fmt.Sprintf("authenticationType %s needs a Secret, and none is named.", typ),
			fmt.Sprintf("create a Secret in namespace %s with %s and put its name in spec.authenticationSecret.", agentconfig.Namespace, secretKeysHint(typ)))
	case ref != "" && strings.Contains(a.ConfigError, fmt.Sprintf("secret %q not found", secretName)):
		add("spec.authenticationSecret", fmt.Sprintf("Secret %q does not exist in namespace %s.", secretName, agentconfig.Namespace),
			fmt.Sprintf("create it (kind: Secret, apiVersion: v1) with %s, or correct the name.", secretKeysHint(typ)))
	case ref != "":
		checkSecret(a, typ, secretField, add)
	}

	if ca := a.Spec.CABundleRef; ca != nil {
		field := fmt.Sprintf("spec.caBundleRef (Secret %q, key %q)", ca.Name, ca.Key)
		switch {
		case strings.Contains(a.ConfigError, fmt.Sprintf("secret %q not found", ca.Name)):
			add(field, "the Secret does not exist.", fmt.Sprintf("create Secret %q in namespace %s with the PEM CA certificate under key %q, or correct the name.", ca.Name, agentconfig.Namespace, ca.Key))
		case strings.Contains(a.ConfigError, fmt.Sprintf("has no key %q", ca.Key)):
			add(field, "the Secret has no such key (or it is empty).", fmt.Sprintf("put the PEM CA certificate under key %q, or set caBundleRef.key to the key that holds it.", ca.Key))
		default:
			if _, err := a.RootCAs(); err != nil {
				add(field, "the key holds no PEM certificate.", "put the CA certificate there as PEM (-----BEGIN CERTIFICATE-----).")
			}
		}
	}
	return ps
}

func needsSecret(t v1alpha1.AuthenticationType) bool {
	return t == v1alpha1.AuthBasic || t == v1alpha1.AuthHeader || t == v1alpha1.AuthOAuth2
}

// secretKeysHint names the keys a Secret of type t holds.
func secretKeysHint(t v1alpha1.AuthenticationType) string {
	switch t {
	case v1alpha1.AuthBasic:
		return "keys username and password"
	case v1alpha1.AuthHeader:
		return "one key per HTTP header (e.g. Authorization) whose value is the header's value"
	case v1alpha1.AuthOAuth2:
		return "the OAuth2 keys (clientID, clientSecret, scope, grantType; all optional for authorization-code with dynamic registration)"
	}
	return "the keys of its authentication type"
}

func checkURL(a agentconfig.Agent, typ v1alpha1.AuthenticationType, o Options, add func(field, problem, fix string)) {
	raw := strings.TrimSpace(a.Spec.MCPURL)
	if typ == v1alpha1.AuthRancher {
		if o.RancherMCPURL != "" {
			raw = strings.TrimSpace(o.RancherMCPURL)
		}
		if raw == "" {
			add("spec.mcpURL", "it is empty.", "set it to the Rancher MCP server's address (e.g. rancher-mcp-server.cattle-ai-agent-system.svc), or set MCP_URL for RANCHER agents.")
			return
		}
		if !strings.Contains(raw, "://") {
			raw = "https://" + raw
		}
	}
	if raw == "" {
		add("spec.mcpURL", "it is empty.", "set it to the MCP server's http(s) URL, e.g. https://mcp.example.com/mcp.")
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("spec.mcpURL", "it is not an http(s) URL with a host.", "write the full URL with its scheme, e.g. https://mcp.example.com/mcp.")
	}
}

func checkSecret(a agentconfig.Agent, typ v1alpha1.AuthenticationType, field string, add func(field, problem, fix string)) {
	switch typ {
	case v1alpha1.AuthBasic:
		for _, k := range []string{"username", "password"} {
			if _, ok := a.AuthSecret[k]; !ok {
				add(field+" key "+k, "the key is missing.", "add keys username and password (BASIC authentication).")
			}
		}
	case v1alpha1.AuthHeader:
		if _, err := mcp.FixedHeaderCredentials(a, mcp.RancherIdentity{}); err != nil {
			msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("agent %q: ", a.Name))
			add(field, sentence(msg), "each key of a HEADER Secret is an HTTP header name (e.g. Authorization or X-API-Key) and its value the header's one-line value.")
		}
	case v1alpha1.AuthOAuth2:
		checkOAuthSecret(a.AuthSecret, field, add)
	}
}

func checkOAuthSecret(data map[string][]byte, field string, add func(field, problem, fix string)) {
	known := oauthSecretKeys()
	var keys []string
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			add(field+" key "+k, "this key is not read by OAUTH2 agents.",
				"rename it to one of clientID, clientSecret, scope, metadataEndpoint, grantType, privateKey, signingAlgorithm, tokenPath, audience, idpIssuer, idpClientID, idpClientSecret, tokenBinding, or delete it.")
		}
	}
	grant := strings.TrimSpace(string(data["grantType"]))
	if grant == "" {
		grant = strings.TrimSpace(string(data["grant_type"]))
	}
	if grant != "" && !slices.Contains(GrantTypes(), grant) {
		add(field+" key grantType", fmt.Sprintf("%q is not a grant type.", grant),
			"use one of "+strings.Join(GrantTypes(), ", ")+" (or leave it out for authorization-code).")
		return
	}
	if _, err := oauth.ConfigFromSecret(data); err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), oauth.ErrBadSecret.Error()), ": ")
		add(field, sentence(msg), oauthFix(msg))
	}
}

// oauthFix is the fix of an oauth.ConfigFromSecret error.
func oauthFix(msg string) string {
	switch {
	case strings.HasPrefix(msg, "privateKey"):
		return "put a PEM private key (EC or RSA, e.g. `openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt`) under privateKey, and register its public key with the authorization server."
	case strings.Contains(msg, "metadataEndpoint"):
		return "set metadataEndpoint to the authorization server's metadata URL (https://…/.well-known/oauth-authorization-server or …/openid-configuration), or delete it to discover it from the MCP server."
	case strings.Contains(msg, "needs"):
		return "add the keys it names (see the README's OAuth2 agents table)."
	case strings.Contains(msg, "clientID is missing"):
		return "add clientID with the client's id at the authorization server, or delete clientSecret to register dynamically."
	}
	return "see the README's OAuth2 agents section for the keys of each grantType."
}

// sentence ends s with a period.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}
