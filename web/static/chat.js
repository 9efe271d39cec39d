// A minimal client of the Rancher AI UI protocol (spec/ui-protocol.md §2, §4).
(() => {
  const log = document.getElementById('log'), form = document.getElementById('form');
  const input = document.getElementById('prompt'), select = document.getElementById('agent');
  const status = document.getElementById('status');
  const base = location.pathname.replace(/\/[^/]*$/, '');
  // open: a <message> is open; bubble: its text bubble, made at the first text chunk.
  let ws, chatId = null, open = false, bubble = null;

  const add = (cls, text) => {
    const d = document.createElement('div');
    d.className = 'bubble ' + cls; d.textContent = text || '';
    log.appendChild(d); log.scrollTop = log.scrollHeight; return d;
  };
  const tag = (frame, name) => {
    const o = '<' + name + '>', c = '</' + name + '>';
    return frame.startsWith(o) && frame.endsWith(c) ? frame.slice(o.length, -c.length) : null;
  };

  function connect() {
    const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    ws = new WebSocket(proto + location.host + base + '/v1/ws/messages' + (chatId ? '/' + chatId : ''));
    ws.onopen = () => { status.textContent = 'connected'; };
    ws.onclose = () => { status.textContent = 'disconnected'; };
    ws.onmessage = (ev) => onFrame(ev.data);
  }

  function onFrame(f) {
    let p;
    if ((p = tag(f, 'chat-metadata')) !== null) {
      const m = JSON.parse(p); chatId = m.chatId;
      select.length = 1;
      for (const a of m.agents) {
        const o = new Option(a.name + (a.status === 'active' ? '' : ' (' + a.status + ')'), a.name);
        o.disabled = a.status !== 'active'; select.add(o);
      }
      status.textContent = 'chat ' + chatId.slice(0, 8) + ' · storage ' + m.storageType;
      return;
    }
    if ((p = tag(f, 'chat-error')) !== null) { add('error', JSON.parse(p).message); return; }
    if (f === '<message>') { open = true; bubble = null; return; }
    if (f === '</message>') { open = false; bubble = null; return; }
    if ((p = tag(f, 'authentication')) !== null) { return authenticate(JSON.parse(p)); }
    if ((p = tag(f, 'token-refresh')) !== null) { return refresh(JSON.parse(p)); }
    if (!open) return; // the UI drops frames outside a message
    if ((p = tag(f, 'error')) !== null) { add('error', 'Error processing message: ' + JSON.parse(p).message); return; }
    if ((p = tag(f, 'auth-error')) !== null) { add('error', 'Authentication error: ' + JSON.parse(p).message); return; }
    if ((p = tag(f, 'mcp-response')) !== null) { return resources(JSON.parse(p)); }
    if ((p = tag(f, 'confirmation-response')) !== null) { return confirm(JSON.parse(p)); }
    if ((p = tag(f, 'mcp-doclink')) !== null) { add('system', 'Source: ' + p); return; }
    if ((p = tag(f, 'agent-metadata')) !== null) { const m = JSON.parse(p); add('system', 'Agent: ' + m.agentName + (m.recommended ? ' (recommended)' : '')); return; }
    if ((p = tag(f, 'processing-subagent-start')) !== null) { const m = JSON.parse(p); add('system', m.name + ': ' + m.query.slice(0, 100)); return; }
    if (tag(f, 'processing-subagent-end') !== null) return;
    if (f === '<think>' || f === '</think>') return;
    if (!bubble) { if (!f.trim()) return; bubble = add('agent', ''); }
    bubble.textContent += f; log.scrollTop = log.scrollHeight;
  }

  function resources(r) {
    const d = add('res', '');
    for (const o of [].concat(r)) for (const n of [].concat(o.name)) {
      const b = document.createElement('button'); b.textContent = o.kind + ' ' + (o.namespace ? o.namespace + '/' : '') + n;
      d.appendChild(b);
    }
  }

  // Human validation: show what the tool would change; the answer resumes the turn.
  function confirm(plan) {
    const items = [].concat(plan).map((x) => x.type + ' ' + x.resource.kind + ' ' +
      (x.resource.namespace ? x.resource.namespace + '/' : '') + x.resource.name +
      (x.payload && x.payload.patched ? '\n' + x.payload.patched : ''));
    const d = add('system', 'Confirm this change?\n' + items.join('\n') + '\n');
    const answer = (yes) => () => {
      d.textContent = yes ? 'Confirmed' : 'Canceled';
      ws.send(JSON.stringify({ prompt: yes ? 'yes' : 'no', context: {}, tags: ['confirmation'] }));
    };
    const ok = document.createElement('button'); ok.textContent = 'Confirm'; ok.onclick = answer(true);
    const no = document.createElement('button'); no.textContent = 'Cancel'; no.onclick = answer(false);
    d.append(ok, no);
  }

  function authenticate(req) {
    const d = add('system', 'Agent "' + req.agent + '" needs you to sign in. ');
    const ok = document.createElement('button'); ok.textContent = 'Sign in';
    const no = document.createElement('button'); no.textContent = 'Dismiss';
    d.append(ok, no);
    no.onclick = () => { d.remove(); ws.send('authentication_canceled'); };
    ok.onclick = () => {
      const popup = window.open(req.url, 'auth_oauth2', 'width=600,height=700,left=200,top=200');
      if (!popup) { ws.send('authentication_canceled'); return; }
      d.textContent = 'Authentication window opened';
      const ch = new BroadcastChannel('oauth_channel');
      let done = false;
      ch.onmessage = (m) => { if (m.data && m.data.type === 'oauth_success' && !done) { done = true; ch.close(); d.textContent = 'Signed in to "' + req.agent + '"'; ws.send('authentication_confirmed'); } };
      const t = setInterval(() => { if (popup.closed) { clearInterval(t); if (!done) { done = true; ch.close(); d.textContent = 'Sign-in canceled'; ws.send('authentication_canceled'); } } }, 500);
    };
  }

  async function refresh(req) {
    const r = await fetch(base + '/v1/api/oauth2/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ agent: req.agent }), credentials: 'same-origin' });
    if (r.ok) ws.send('token_refresh_confirmed'); else add('error', 'Token refresh failed');
  }

  form.onsubmit = (e) => {
    e.preventDefault();
    const text = input.value.trim(); if (!text) return;
    add('user', text); input.value = '';
    const msg = JSON.stringify({ prompt: text, agent: select.value || undefined, context: {} });
    if (ws.readyState === WebSocket.OPEN) ws.send(msg); else { connect(); ws.addEventListener('open', () => ws.send(msg), { once: true }); }
  };
  connect();
})();
