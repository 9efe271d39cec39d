package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"
)

const (
	redirectURI = "http://localhost:3000/callback"
	cimdURL     = "https://conformance-test.local/client-metadata.json"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("mcp-conformance-client: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: mcp-conformance-client <mcp-server-url>")
	}
	serverURL := os.Args[len(os.Args)-1]
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	cc, err := parseContext(os.Getenv("MCP_CONFORMANCE_CONTEXT"))
	if err == nil {
		err = run(ctx, os.Getenv("MCP_CONFORMANCE_SCENARIO"), serverURL, cc, os.Getenv("MCP_CONFORMANCE_PROTOCOL_VERSION"))
	}
	if err != nil {
		log.Printf("scenario %q failed: %v", os.Getenv("MCP_CONFORMANCE_SCENARIO"), err)
		os.Exit(1)
	}
}

// conformanceContext is the subset of MCP_CONFORMANCE_CONTEXT we use.
type conformanceContext struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Issuer       string `json:"issuer"`
	// client-credentials-jwt
	PrivateKeyPEM    string `json:"private_key_pem"`
	SigningAlgorithm string `json:"signing_algorithm"`
	// wif-jwt-bearer: the workload's JWT (as a projected token file holds it)
	ValidJWT string `json:"valid_jwt"`
	// enterprise-managed-authorization: the user's sign-in at the IdP
	IdPClientID      string `json:"idp_client_id"`
	IdPIDToken       string `json:"idp_id_token"`
	IdPIssuer        string `json:"idp_issuer"`
	IdPTokenEndpoint string `json:"idp_token_endpoint"`
	// http-custom-headers
	ToolCalls []struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"toolCalls"`
}

func parseContext(raw string) (conformanceContext, error) {
	var cc conformanceContext
	if raw == "" {
		return cc, nil
	}
	if err := json.Unmarshal([]byte(raw), &cc); err != nil {
		return cc, fmt.Errorf("MCP_CONFORMANCE_CONTEXT: %w", err)
	}
	return cc, nil
}
