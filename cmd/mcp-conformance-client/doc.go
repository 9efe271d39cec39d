// Command mcp-conformance-client is the client under test for the official MCP
// conformance suite (@modelcontextprotocol/conformance, "client" mode, auth
// scenarios). It is a thin wrapper around internal/oauth: one fake user, an
// in-memory credential set, and a headless authorization step (the suite's
// mock authorization server redirects immediately, so the authorization URL is
// fetched without following redirects and code/state/iss are read from the
// Location header).
//
// Contract (see the shared spec mcp-oauth.md §3.2): the MCP server URL is
// the last argument; MCP_CONFORMANCE_SCENARIO names the scenario,
// MCP_CONFORMANCE_CONTEXT may carry pre-registered client_id/client_secret,
// MCP_CONFORMANCE_PROTOCOL_VERSION selects the protocol version. The client
// connects, initializes, lists tools, calls "test-tool" and exits 0; any error
// exits 1.
package main
