// Command mcp-conformance-client is the client under test for the official MCP
// conformance suite (@modelcontextprotocol/conformance, "client" mode, every
// client scenario). It drives the agent's own code: MCP sessions, tool
// conversion and calls through internal/mcp's Manager (elicitation defaults,
// request state, Mcp-Param headers, schemas as the model gets them), and
// authorization through internal/oauth.
//
//   - transport.go  the authorization code flow of one fake user with a
//     headless authorization step (the suite's mock authorization server
//     redirects immediately, so the authorization URL is fetched without
//     following redirects and code/state/iss are read from the Location
//     header); DPoP-bound tokens when the MCP server accepts DPoP (its
//     protected resource metadata or its 401 challenge says so).
//   - grants.go     client credentials, workload identity and enterprise
//     (ID-JAG) scenarios: the agent's oauth.Service over an in-memory store,
//     with the Secret an administrator would write for the scenario.
//   - scenarios.go  what each scenario does with the tools.
//
// Contract (see the shared spec mcp-oauth.md §3.2): the MCP server URL is
// the last argument; MCP_CONFORMANCE_SCENARIO names the scenario,
// MCP_CONFORMANCE_CONTEXT carries its inputs (pre-registered client, keys,
// the workload JWT, the IdP ID token, tool calls),
// MCP_CONFORMANCE_PROTOCOL_VERSION selects the protocol version. Any error
// exits 1.
package main
