// The demo page's Connections panel: for each OAuth2 agent, whether this
// user is signed in (GET /v1/api/oauth2/connections), a Sign out button
// (DELETE /v1/api/oauth2/connections/{agent}: revoked at the authorization
// server, deleted by the agent) and a Sign in button, which asks the agent
// in the chat so that the usual sign-in card (chat.js) opens. It uses the
// same endpoints a user would call with curl; no token ever reaches the
// page. Plain script, no build step, nothing assigned to innerHTML.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const base = location.pathname.replace(/\/[^/]*$/, '');
  const api = (p) => base + '/v1/api' + p;
  const SIGN_IN_PROMPT = 'Sign in: who am I signed in as?';
  const LABELS = { connected: 'Signed in', 'signed-out': 'Signed out', expired: 'Expired', error: 'Error' };

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  const panel = el('section');
  panel.id = 'connections';
  panel.setAttribute('aria-labelledby', 'connections-title');
  const title = el('h2', '', 'Connections');
  title.id = 'connections-title';
  const list = el('ul');
  list.id = 'connection-list';
  const note = el('p', 'muted');
  note.id = 'connections-note';
  note.setAttribute('role', 'status');
  panel.append(title, list, note);
  $('chats').append(panel);

  let names = {}; // agent -> display name (GET /demo/agents)
  const shown = (a) => names[a] || a;

  async function loadNames() {
    try {
      const r = await fetch(base + '/demo/agents');
      if (r.ok) for (const a of await r.json()) names[a.name] = a.displayName || a.name;
    } catch (e) { /* names only */ }
  }

  function when(t) {
    return t ? new Date(t).toLocaleString() : '—';
  }

  function row(c) {
    const li = el('li', 'conn ' + c.status);
    li.dataset.agent = c.agent;
    li.dataset.status = c.status;
    li.title = [
      'Issuer: ' + (c.issuer || '—'),
      'Scopes: ' + ((c.scopes || []).join(' ') || '—'),
      'Token: ' + c.tokenBinding + (c.refreshable ? ', refreshable' : ''),
      'Expires: ' + when(c.expiresAt),
      'Last used: ' + when(c.lastUsedAt),
    ].join('\n');
    const dot = el('span', 'dot ' + (c.status === 'connected' ? 'active' : c.status === 'error' ? 'error' : ''));
    const text = el('span', 'conn-text');
    text.append(el('span', 'conn-name', shown(c.agent)), el('span', 'conn-status muted', LABELS[c.status] || c.status));
    if (c.shared) text.append(el('span', 'conn-status muted', ' (shared)'));
    if (c.error) text.append(el('span', 'conn-error', c.error));
    li.append(dot, text);
    if (c.shared) return li;
    const act = el('button', 'conn-action');
    act.type = 'button';
    if (c.status === 'connected' || c.status === 'error') {
      act.textContent = 'Sign out';
      act.onclick = () => signOut(c.agent, act);
    } else {
      act.textContent = 'Sign in';
      act.onclick = () => signIn(c.agent);
    }
    li.append(act);
    return li;
  }

  async function refresh() {
    let r;
    try { r = await fetch(api('/oauth2/connections'), { credentials: 'same-origin' }); } catch (e) { note.textContent = 'The connections cannot be read: ' + e.message; return; }
    if (!r.ok) { note.textContent = 'The connections cannot be read (HTTP ' + r.status + ').'; return; }
    const conns = await r.json();
    list.replaceChildren(...conns.map(row));
    if (!conns.length) list.append(el('li', 'muted', 'No agent needs a sign-in.'));
    panel.dataset.loaded = 'true';
  }

  async function signOut(agent, btn) {
    btn.disabled = true;
    let r;
    try {
      r = await fetch(api('/oauth2/connections/' + encodeURIComponent(agent)), { method: 'DELETE', credentials: 'same-origin' });
    } catch (e) { note.textContent = 'Sign-out failed: ' + e.message; btn.disabled = false; return; }
    let body = {};
    try { body = await r.json(); } catch (e) { /* below */ }
    if (!r.ok) {
      note.textContent = 'Sign-out failed: ' + (body.detail || 'HTTP ' + r.status);
    } else if (body.revokedAtServer) {
      note.textContent = 'Signed out of ' + shown(agent) + ': its authorization server revoked the tokens.' + (body.reason ? ' ' + body.reason : '');
    } else {
      note.textContent = 'Signed out of ' + shown(agent) + ' here. ' + (body.reason || '');
    }
    await refresh();
  }

  // signIn asks the agent itself in the chat (manual mode for this one
  // prompt): the agent answers with <authentication>, and chat.js shows
  // its sign-in card.
  function signIn(agent) {
    const select = $('agent'), input = $('prompt');
    if (![...select.options].some((o) => o.value === agent)) { note.textContent = shown(agent) + ' is not in the agent list.'; return; }
    const prev = select.value, typed = input.value;
    select.value = agent;
    input.value = SIGN_IN_PROMPT;
    $('form').requestSubmit(); // chat.js reads the agent and the prompt now
    select.value = prev;
    input.value = typed;
    note.textContent = 'Sign in to ' + shown(agent) + ' in the chat.';
  }

  // Refresh after each finished answer (a sign-in, a refresh, or a
  // refusal may have changed a connection) and when a sign-in pop-up
  // reports success.
  let timer = null;
  const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 200); };
  new MutationObserver((records) => {
    if (records.some((m) => m.target.classList && m.target.classList.contains('done'))) soon();
  }).observe($('log'), { subtree: true, attributes: true, attributeFilter: ['class'] });
  if ('BroadcastChannel' in window) {
    const ch = new BroadcastChannel('oauth_channel');
    ch.onmessage = (ev) => { if (ev.data && ev.data.type === 'oauth_success') soon(); };
  }

  loadNames().then(refresh);
})();
