package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/store"
)

// agentGrantCredential builds the credential of an OAUTH2 agent whose Secret
// names a grant without a per-user sign-in (client credentials, workload
// identity) or the enterprise sign-in, through the agent's own
// oauth.Service over an in-memory store. The Secret is what an
// administrator would write for the scenario's context.
func agentGrantCredential(ctx context.Context, scenario, serverURL string, cc conformanceContext) (mcp.Credentials, func(), error) {
	secret := map[string][]byte{"clientID": []byte(cc.ClientID)}
	user := oauth.Identity{UserID: "conformance-user"}
	cleanup := func() {}
	switch scenario {
	case "auth/client-credentials-basic":
		secret["grantType"] = []byte(oauth.GrantClientCredentials)
		secret["clientSecret"] = []byte(cc.ClientSecret)
	case "auth/client-credentials-jwt":
		secret["grantType"] = []byte(oauth.GrantClientCredentials)
		secret["privateKey"] = []byte(cc.PrivateKeyPEM)
		secret["signingAlgorithm"] = []byte(cc.SigningAlgorithm)
	case "auth/wif-jwt-bearer":
		// The workload's JWT where the kubelet would project it.
		dir, err := os.MkdirTemp("", "wif")
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		path := filepath.Join(dir, "token")
		if err := os.WriteFile(path, []byte(cc.ValidJWT), 0o600); err != nil {
			cleanup()
			return nil, nil, err
		}
		secret["grantType"] = []byte(oauth.GrantWorkloadIdentity)
		secret["tokenPath"] = []byte(path)
	case "auth/enterprise-managed-authorization":
		secret["grantType"] = []byte(oauth.GrantEnterprise)
		secret["clientSecret"] = []byte(cc.ClientSecret)
		secret["idpIssuer"] = []byte(cc.IdPIssuer)
		secret["idpClientID"] = []byte(cc.IdPClientID)
	}
	a := agentconfig.Agent{
		Name: "conformance", Revision: "1",
		Spec:       v1alpha1.AIAgentConfigSpec{MCPURL: serverURL, AuthenticationType: v1alpha1.AuthOAuth2},
		AuthSecret: secret,
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		cleanup()
		return nil, nil, err
	}
	sealer, err := oauth.NewSealer(key)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	vault := oauth.NewVault(store.NewMemory(), sealer, nil)
	svc, err := oauth.NewService(oauth.ServiceOptions{
		Vault: vault, Sealer: sealer, Agents: agentconfig.StaticSource{a},
		Endpoint: func(agentconfig.Agent) (string, error) { return serverURL, nil },
	})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	if scenario == "auth/enterprise-managed-authorization" {
		// The user's one sign-in at the enterprise IdP.
		if err := svc.PutIdentity(ctx, user.UserID, cc.IdPIssuer, cc.IdPIDToken); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	cred, err := svc.Credentials(ctx, a, user)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("credentials: %w", err)
	}
	return cred, cleanup, nil
}
