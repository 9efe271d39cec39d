// Test-only MCP server built with the official TypeScript SDK
// (@modelcontextprotocol/sdk) the way its documentation shows: express,
// the SDK's requireBearerAuth middleware, its mcpAuthMetadataRouter for the
// protected resource metadata (RFC 9728), a stateless streamable HTTP
// transport. Access tokens are verified at the authorization server's
// introspection endpoint (RFC 7662). Nothing here knows DPoP: like the SDK,
// it takes "Authorization: Bearer <token>" only. Started by
// oauthtest.StartSDKMCP; never use it for anything but local tests.
//
// Input:  env OAUTHTEST_SDK_CONFIG (JSON): issuer, introspector {id, secret},
//         scopes (required and advertised), secret (for the stats endpoint).
// Output: one JSON line on stdout once listening: {"url": ".../mcp"}.
//
// Tool: "whoami" returns the token's sub. Test-only endpoint (header
// "x-oauthtest-secret"): GET /__oauthtest/stats -> {calls, bearer, refused}.
import http from 'node:http';
import crypto from 'node:crypto';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { mcpAuthMetadataRouter, getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';

const cfg = JSON.parse(process.env.OAUTHTEST_SDK_CONFIG || '{}');
const scopes = cfg.scopes || [];
const stats = { calls: [], bearer: 0, refused: 0 };

const md = await (await fetch(`${cfg.issuer}/.well-known/oauth-authorization-server`)).json();

const app = express();
const server = http.createServer(app);
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const mcpURL = new URL(`http://127.0.0.1:${server.address().port}/mcp`);
const prmURL = getOAuthProtectedResourceMetadataUrl(mcpURL);

// RFC 7662 introspection with the test's confidential client.
const verifier = {
  async verifyAccessToken(token) {
    const basic = Buffer.from(`${encodeURIComponent(cfg.introspector.id)}:${encodeURIComponent(cfg.introspector.secret)}`).toString('base64');
    const r = await fetch(md.introspection_endpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    if (!r.ok) throw new ServerError(`introspection answered HTTP ${r.status}`);
    const info = await r.json();
    if (!info.active) throw new InvalidTokenError('Token is not active');
    const aud = Array.isArray(info.aud) ? info.aud[0] : info.aud;
    return {
      token,
      clientId: info.client_id,
      scopes: (info.scope || '').split(' ').filter(Boolean),
      expiresAt: info.exp,
      resource: aud ? new URL(aud) : undefined,
      extra: { sub: info.sub },
    };
  },
};

app.use(mcpAuthMetadataRouter({
  oauthMetadata: md,
  resourceServerUrl: mcpURL,
  scopesSupported: scopes,
  resourceName: 'oauthtest TypeScript SDK MCP server',
}));

app.get('/__oauthtest/stats', (req, res) => {
  const got = req.get('x-oauthtest-secret') || '';
  if (!cfg.secret || got.length !== cfg.secret.length || !crypto.timingSafeEqual(Buffer.from(got), Buffer.from(cfg.secret))) {
    res.status(403).end();
    return;
  }
  res.json(stats);
});

const auth = requireBearerAuth({ verifier, requiredScopes: scopes, resourceMetadataUrl: prmURL, expectedResource: mcpURL });
const count = (req, res, next) => {
  res.on('finish', () => { if (res.statusCode === 401 || res.statusCode === 403) stats.refused++; });
  next();
};

function buildServer() {
  const mcp = new McpServer({ name: 'oauthtest-sdk-mcp', version: '1.0.0' });
  mcp.registerTool('whoami', { description: 'Returns the authenticated user (token sub).', annotations: { readOnlyHint: true } }, async (extra) => {
    const sub = extra.authInfo && extra.authInfo.extra && extra.authInfo.extra.sub;
    stats.calls.push(String(sub));
    return { content: [{ type: 'text', text: String(sub) }] };
  });
  return mcp;
}

app.post('/mcp', count, auth, express.json(), async (req, res) => {
  stats.bearer++;
  // Stateless: a server and transport per request (the SDK's example).
  const mcp = buildServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => { transport.close(); mcp.close(); });
  try {
    await mcp.connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch (err) {
    console.error('oauthtest sdk mcp:', err);
    if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null });
  }
});
const notAllowed = (_req, res) => {
  res.status(405).set('allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
};
app.get('/mcp', count, auth, notAllowed);
app.delete('/mcp', count, auth, notAllowed);

process.stdout.write(JSON.stringify({ url: mcpURL.href }) + '\n');

const shutdown = () => { server.closeAllConnections(); server.close(() => process.exit(0)); };
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
