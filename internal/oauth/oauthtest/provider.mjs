// Test-only OAuth 2.1 / OIDC authorization server built on the npm package
// oidc-provider (v9). Started by oauthtest.StartAuthServer; never use it for
// anything but local tests.
//
// Input:  env OAUTHTEST_CONFIG (JSON, see ASOptions in authserver.go).
// Output: one JSON line on stdout once listening: {"issuer": "...", "port": N}.
//         Everything else goes to stderr.
//
// Test-only endpoints (require header "x-oauthtest-secret: <config.secret>"):
//   GET  /interaction/:uid?oauthtest_user=<name>  auto-completes login/consent
//   GET  /__oauthtest/token-requests              counts of /token requests by grant_type
//   POST /__oauthtest/revoke-all                  revokes every grant issued so far
//   POST /__oauthtest/opaque-resource?resource=U  access tokens for resource U are
//                                                 opaque from now on (RFC 7662
//                                                 introspection works only on those)
//
// The client "oauthtest-introspector" with the test secret as its client
// secret (client_secret_basic) may call the introspection endpoint: the
// interop MCP peers verify tokens with it (RFC 7662).
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const cfg = JSON.parse(process.env.OAUTHTEST_CONFIG || '{}');
const secret = cfg.secret || '';
const scopes = ['openid', 'offline_access', ...(cfg.scopes || [])];
const accessTokenTTL = cfg.accessTokenTTL > 0 ? cfg.accessTokenTTL : 3600;
const signingAlg = cfg.signingAlg || 'RS256';

function jwk(type, opts, alg, kid) {
  const { privateKey } = crypto.generateKeyPairSync(type, opts);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid };
}
const keys = [
  jwk('rsa', { modulusLength: 2048 }, 'RS256', 'rs256-' + crypto.randomUUID()),
  jwk('ec', { namedCurve: 'P-256' }, 'ES256', 'es256-' + crypto.randomUUID()),
];
// The signing key for access tokens comes first so JWKS consumers see it first.
keys.sort((a, b) => (a.alg === signingAlg ? -1 : b.alg === signingAlg ? 1 : 0));

const tokenRequests = {};
const grantIds = new Set();
const opaqueResources = new Set();

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(cfg.port || 0, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://${cfg.host || '127.0.0.1'}:${port}`;

const clients = (cfg.clients || []).map((c) => ({
  client_id: c.id,
  ...(c.secret ? { client_secret: c.secret } : {}),
  redirect_uris: c.redirectURIs || [],
  grant_types: c.grantTypes || ['authorization_code', 'refresh_token'],
  response_types: (c.grantTypes && !c.grantTypes.includes('authorization_code')) ? [] : ['code'],
  token_endpoint_auth_method: c.authMethod || (c.secret ? 'client_secret_basic' : 'none'),
  ...(c.jwk ? { jwks: { keys: [c.jwk] } } : {}),
  ...(c.applicationType ? { application_type: c.applicationType } : {}),
}));
if (secret !== '') {
  clients.push({
    client_id: 'oauthtest-introspector',
    client_secret: secret,
    redirect_uris: [],
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  });
}

const provider = new Provider(issuer, {
  clients,
  jwks: { keys },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes,
  claims: { openid: ['sub'] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id }),
  }),
  // DCR'd clients without grant_types may still refresh.
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  },
  pkce: { required: () => true },
  // Refresh tokens for every client allowed the refresh_token grant; no
  // offline_access scope or prompt=consent needed.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  rotateRefreshToken: !!cfg.rotateRefreshTokens,
  ttl: {
    AccessToken: accessTokenTTL,
    AuthorizationCode: 120,
    RefreshToken: 24 * 3600,
    Grant: 24 * 3600,
    Session: 24 * 3600,
    Interaction: 600,
    IdToken: 3600,
  },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    clientCredentials: { enabled: true },
    // RFC 9449: off unless asked for (dpop_signing_alg_values_supported is
    // then advertised and DPoP proofs bind tokens).
    dPoP: {
      enabled: !!cfg.dpop,
      nonceSecret: crypto.randomBytes(32),
      requireNonce: () => !!cfg.dpopNonce,
    },
    revocation: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resourceIndicator) => {
        let u;
        try { u = new URL(resourceIndicator); } catch { throw new Provider.errors.InvalidTarget(); }
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Provider.errors.InvalidTarget();
        return {
          scope: (cfg.scopes || []).join(' '),
          audience: resourceIndicator,
          accessTokenTTL,
          accessTokenFormat: cfg.opaqueAccessTokens || opaqueResources.has(resourceIndicator) ? 'opaque' : 'jwt',
          jwt: { sign: { alg: signingAlg } },
        };
      },
    },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out, error) => {
    ctx.type = 'application/json';
    ctx.body = JSON.stringify({ ...out, detail: String(error && error.stack || error) });
  },
});
provider.proxy = false;

for (const ev of ['access_token.issued', 'refresh_token.saved', 'authorization_code.saved']) {
  provider.on(ev, (token) => { if (token && token.grantId) grantIds.add(token.grantId); });
}
for (const ev of ['server_error', 'grant.error', 'authorization.error', 'registration_create.error']) {
  provider.on(ev, (_ctx, err) => console.error(`oauthtest provider ${ev}: ${err && (err.error_description ? `${err.message}: ${err.error_description}` : err.stack || err)}`));
}

function authorizedTestCall(ctx) {
  const got = ctx.get('x-oauthtest-secret');
  return secret !== '' && got.length === secret.length
    && crypto.timingSafeEqual(Buffer.from(got), Buffer.from(secret));
}

async function autoInteract(ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    const user = ctx.query.oauthtest_user || params.login_hint;
    if (!user) {
      ctx.status = 400;
      ctx.body = { error: 'oauthtest: no user for login (oauthtest_user query or login_hint)' };
      return;
    }
    result = { login: { accountId: String(user) } };
  } else if (prompt.name === 'consent') {
    let grant;
    if (details.grantId) grant = await provider.Grant.find(details.grantId);
    if (!grant) grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details || {};
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, s] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, s.join(' '));
      }
    }
    const grantId = await grant.save();
    grantIds.add(grantId);
    result = { consent: { grantId } };
  } else {
    ctx.status = 400;
    ctx.body = { error: `oauthtest: unsupported prompt ${prompt.name}` };
    return;
  }
  const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.set('location', to);
  ctx.body = '';
}

async function revokeAll() {
  const ids = [...grantIds];
  for (const id of ids) {
    await Promise.all([
      provider.AccessToken.revokeByGrantId(id),
      provider.RefreshToken.revokeByGrantId(id),
      provider.AuthorizationCode.revokeByGrantId(id),
      provider.Grant.adapter.destroy(id),
    ]);
    grantIds.delete(id);
  }
  return ids.length;
}

provider.use(async (ctx, next) => {
  const m = /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (m && ctx.method === 'GET') {
    if (!authorizedTestCall(ctx)) { ctx.status = 403; ctx.body = { error: 'oauthtest: missing test secret' }; return; }
    await autoInteract(ctx);
    return;
  }
  if (ctx.path.startsWith('/__oauthtest/')) {
    if (!authorizedTestCall(ctx)) { ctx.status = 403; ctx.body = { error: 'oauthtest: missing test secret' }; return; }
    if (ctx.path === '/__oauthtest/token-requests' && ctx.method === 'GET') {
      ctx.body = tokenRequests;
      return;
    }
    if (ctx.path === '/__oauthtest/opaque-resource' && ctx.method === 'POST' && ctx.query.resource) {
      opaqueResources.add(String(ctx.query.resource));
      ctx.status = 204;
      return;
    }
    if (ctx.path === '/__oauthtest/revoke-all' && ctx.method === 'POST') {
      ctx.body = { revoked: await revokeAll() };
      return;
    }
    ctx.status = 404;
    return;
  }
  if (ctx.path === '/token' && ctx.method === 'POST') {
    try {
      await next();
    } finally {
      const gt = (ctx.oidc && ctx.oidc.params && ctx.oidc.params.grant_type) || 'unknown';
      tokenRequests[gt] = (tokenRequests[gt] || 0) + 1;
    }
    return;
  }
  await next();
});

server.on('request', provider.callback());
process.stdout.write(JSON.stringify({ issuer, port }) + '\n');

const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// Exit when the parent (the Go test binary) goes away.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
