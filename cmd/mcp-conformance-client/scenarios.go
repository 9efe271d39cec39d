package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/oauthproto"
	"github.com/rancher/ai-agent/internal/outbound"
)

// client is the agent's MCP stack for one scenario: the agent's
// internal/mcp Manager (sessions, tool conversion, calls) with the
// credential the agent would use.
type client struct {
	m     *mcp.Manager
	agent agentconfig.Agent
	cred  mcp.Credentials
	code  *codeCredential // the user sign-in, for authorization-code scenarios
}

func (c *client) tools(ctx context.Context) ([]mcp.Tool, error) {
	var tools []mcp.Tool
	err := withAuth(ctx, c.code, func() (err error) {
		tools, err = c.m.Tools(ctx, c.agent, c.cred)
		return err
	})
	return tools, err
}

func (c *client) call(ctx context.Context, name string, args json.RawMessage) (mcp.Result, error) {
	var res mcp.Result
	err := withAuth(ctx, c.code, func() (err error) {
		res, err = c.m.Call(ctx, c.agent, c.cred, name, args)
		return err
	})
	return res, err
}

// elicitDefaults answers elicitation like a user who accepts the form as
// shown: the answer is empty and the SDK fills in the schema's defaults
// (SEP-1034); a boolean without a default is confirmed.
func elicitDefaults(_ context.Context, req *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
	content := map[string]any{}
	var schema struct {
		Properties map[string]struct {
			Type    string `json:"type"`
			Default any    `json:"default"`
		} `json:"properties"`
	}
	if b, err := json.Marshal(req.Params.RequestedSchema); err == nil && json.Unmarshal(b, &schema) == nil {
		for name, p := range schema.Properties {
			if p.Type == "boolean" && p.Default == nil {
				content[name] = true
			}
		}
	}
	return &sdk.ElicitResult{Action: "accept", Content: content}, nil
}

func run(ctx context.Context, scenario, serverURL string, cc conformanceContext, protocolVersion string) error {
	m := mcp.NewManager(mcp.Options{ProtocolVersion: protocolVersion, Elicit: elicitDefaults})
	defer m.Close()
	c := &client{m: m, agent: agentconfig.Agent{
		Name: "conformance", Revision: "1",
		Spec: v1alpha1.AIAgentConfigSpec{MCPURL: serverURL, AuthenticationType: v1alpha1.AuthNone},
	}}
	hc := outbound.NewClient(outbound.Options{})
	switch {
	case scenario == "auth/client-credentials-basic" || scenario == "auth/client-credentials-jwt" ||
		scenario == "auth/wif-jwt-bearer" || scenario == "auth/enterprise-managed-authorization":
		cred, closeFn, err := agentGrantCredential(ctx, scenario, serverURL, cc)
		if err != nil {
			return err
		}
		defer closeFn()
		c.cred = cred
	case strings.HasPrefix(scenario, "auth/"):
		c.code = newCodeCredential(hc, serverURL, codeClientOptions(cc))
		c.cred = c.code
	default:
		cred, err := mcp.FixedHeaderCredentials(c.agent, mcp.RancherIdentity{})
		if err != nil {
			return err
		}
		c.cred = cred
	}

	switch scenario {
	case "request-metadata", "json-schema-ref-no-deref", "sep-2640-client-no-prefetch":
		// Connecting and listing is the whole scenario; the server may not
		// list tools.
		if _, err := c.tools(ctx); err != nil {
			log.Printf("tools/list: %v", err)
		}
		return nil
	case "tools_call":
		if _, err := c.callListed(ctx, "add_numbers", json.RawMessage(`{"a":5,"b":3}`)); err != nil {
			return err
		}
		return nil
	case "elicitation-sep1034-client-defaults":
		_, err := c.callListed(ctx, "test_client_elicitation_defaults", nil)
		return err
	case "sse-retry":
		_, err := c.callListed(ctx, "test_reconnection", nil)
		return err
	case "json-schema-2020-12-preservation":
		return echoSchema(ctx, c)
	case "sep-2322-client-request-state":
		for _, name := range []string{"test_mrtr_echo_state", "test_mrtr_no_state", "test_mrtr_unrelated", "test_mrtr_no_result_type"} {
			if _, err := c.call(ctx, name, nil); err != nil {
				log.Printf("tools/call %s: %v", name, err)
			}
		}
		return nil
	case "http-custom-headers":
		if _, err := c.tools(ctx); err != nil {
			return fmt.Errorf("tools/list: %w", err)
		}
		for _, tc := range cc.ToolCalls {
			if _, err := c.call(ctx, tc.Name, tc.Arguments); err != nil {
				log.Printf("tools/call %s: %v", tc.Name, err)
			}
		}
		return nil
	case "http-invalid-tool-headers", "http-standard-headers":
		tools, err := c.tools(ctx)
		if err != nil {
			return fmt.Errorf("tools/list: %w", err)
		}
		for _, t := range tools {
			if _, err := c.call(ctx, t.Name, json.RawMessage(`{"region":"us-west1"}`)); err != nil {
				log.Printf("tools/call %s: %v", t.Name, err)
			}
		}
		return nil
	}
	// Every auth scenario, initialize and the rest: list, then call
	// test-tool when it is offered.
	tools, err := c.tools(ctx)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	if !strings.HasPrefix(scenario, "auth/") && !hasTool(tools, "test-tool") {
		return nil
	}
	if _, err := c.call(ctx, "test-tool", nil); err != nil {
		return fmt.Errorf("tools/call test-tool: %w", err)
	}
	return nil
}

func hasTool(tools []mcp.Tool, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// callListed lists the tools (as the agent does before offering them to the
// model) and calls name, which must be among them.
func (c *client) callListed(ctx context.Context, name string, args json.RawMessage) (mcp.Result, error) {
	tools, err := c.tools(ctx)
	if err != nil {
		return mcp.Result{}, fmt.Errorf("tools/list: %w", err)
	}
	if !hasTool(tools, name) {
		return mcp.Result{}, fmt.Errorf("tool %q not listed", name)
	}
	res, err := c.call(ctx, name, args)
	if err != nil {
		return res, fmt.Errorf("tools/call %s: %w", name, err)
	}
	return res, nil
}

// echoSchema sends back the focal tool's input schema exactly as the agent
// holds it for the model (mcp.Tool.InputSchema), so the suite sees which
// JSON Schema 2020-12 keywords survived.
func echoSchema(ctx context.Context, c *client) error {
	tools, err := c.tools(ctx)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	for _, t := range tools {
		if t.Name != "json_schema_2020_12_tool" {
			continue
		}
		args, err := json.Marshal(map[string]json.RawMessage{"schema": t.InputSchema})
		if err != nil {
			return err
		}
		_, err = c.call(ctx, "json_schema_echo", args)
		return err
	}
	return fmt.Errorf("tool %q not listed", "json_schema_2020_12_tool")
}

// codeClientOptions: CIMD, DCR with the loopback redirect, and the
// pre-registered client of the context.
func codeClientOptions(cc conformanceContext) oauthproto.ClientOptions {
	opts := oauthproto.ClientOptions{
		CIMDURL:      cimdURL,
		Registration: &oauthproto.RegistrationRequest{RedirectURIs: []string{redirectURI}},
	}
	if cc.ClientID != "" {
		opts.Preregistered = &oauthproto.ClientInfo{ClientID: cc.ClientID, ClientSecret: cc.ClientSecret, Issuer: cc.Issuer}
	}
	return opts
}
