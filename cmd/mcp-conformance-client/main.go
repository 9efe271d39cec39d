package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/rancher/ai-agent/internal/oauth"
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
	if err := run(ctx, serverURL, os.Getenv("MCP_CONFORMANCE_CONTEXT"), os.Getenv("MCP_CONFORMANCE_PROTOCOL_VERSION")); err != nil {
		log.Printf("scenario %q failed: %v", os.Getenv("MCP_CONFORMANCE_SCENARIO"), err)
		os.Exit(1)
	}
}

// conformanceContext is the subset of MCP_CONFORMANCE_CONTEXT we use.
type conformanceContext struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Issuer       string `json:"issuer"`
}

func clientOptions(rawContext string) (oauth.ClientOptions, error) {
	opts := oauth.ClientOptions{
		CIMDURL:      cimdURL,
		Registration: &oauth.RegistrationRequest{RedirectURIs: []string{redirectURI}},
	}
	if rawContext == "" {
		return opts, nil
	}
	var cc conformanceContext
	if err := json.Unmarshal([]byte(rawContext), &cc); err != nil {
		return opts, fmt.Errorf("MCP_CONFORMANCE_CONTEXT: %w", err)
	}
	if cc.ClientID != "" {
		opts.Preregistered = &oauth.ClientInfo{ClientID: cc.ClientID, ClientSecret: cc.ClientSecret, Issuer: cc.Issuer}
	}
	return opts, nil
}

func run(ctx context.Context, serverURL, rawContext, protocolVersion string) error {
	opts, err := clientOptions(rawContext)
	if err != nil {
		return err
	}
	hc := oauth.NewOutboundClient(oauth.OutboundOptions{})
	tr := newAuthTransport(http.DefaultTransport, hc, serverURL, opts)

	client := mcp.NewClient(&mcp.Implementation{Name: "rancher-ai-agent-conformance", Version: "1.0.0"}, nil)
	transport := &mcp.StreamableClientTransport{
		Endpoint:             serverURL,
		HTTPClient:           &http.Client{Transport: tr},
		DisableStandaloneSSE: true,
	}
	session, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: protocolVersion})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer session.Close()
	if _, err := session.ListTools(ctx, nil); err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	if _, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "test-tool", Arguments: map[string]any{}}); err != nil {
		return fmt.Errorf("tools/call test-tool: %w", err)
	}
	return nil
}
