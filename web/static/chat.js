// The demo page: a client of the Rancher AI UI protocol (ui-protocol.md §2
// WebSocket frames, §3.1 chat history, §4 OAuth sign-in), in plain script
// with no build step. Model text goes through DemoMarkdown, which builds
// DOM nodes; nothing here assigns innerHTML.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const log = $('log'), form = $('form'), input = $('prompt'), select = $('agent'), about = $('agent-about');
  const statusEl = $('status'), chatList = $('chat-list'), noChats = $('chat-list-empty'), userInput = $('user');
  const base = location.pathname.replace(/\/[^/]*$/, '');
  const api = (p) => base + '/v1/api' + p;
  const MANUAL = '__MANUAL_DISCONNECT__';
  const USER_RE = /^[a-z0-9][a-z0-9._-]{0,31}$/;

  let ws = null, chatId = null, storage = '';
  let cur = null; // the open assistant message (between <message> and </message>)
  let agentInfo = {}; // name -> {displayName, description} (the demo's stand-in for Steve)
  let agentStatus = []; // <chat-metadata>.agents
  let pendingAuth = null; // the one sign-in in progress
  let lastPrompt = ''; // the last prompt asked, for a sign-in's "Try again"
  let recommended = false; // the "switch to agent" hint, once per page

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const button = (text, onclick, cls) => {
    const b = el('button', cls, text);
    b.type = 'button';
    b.onclick = onclick;
    return b;
  };
  const tag = (frame, name) => {
    const o = '<' + name + '>', c = '</' + name + '>';
    return frame.startsWith(o) && frame.endsWith(c) ? frame.slice(o.length, -c.length) : null;
  };
  const displayName = (name) => (agentInfo[name] && agentInfo[name].displayName) || name;
  const setStatus = (t) => { statusEl.textContent = t; };

  // ---- who is at this browser (the demo's users, told apart by a cookie) ----

  const cookieUser = () => {
    const m = document.cookie.match(/(?:^|;\s*)demo_user=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : 'demo-user';
  };
  const setUser = (u) => { document.cookie = 'demo_user=' + encodeURIComponent(u) + '; path=/; SameSite=Strict'; };
  const fromQuery = new URLSearchParams(location.search).get('user');
  if (fromQuery && USER_RE.test(fromQuery)) {
    setUser(fromQuery);
    history.replaceState(null, '', location.pathname + location.hash);
  }
  userInput.value = cookieUser();
  $('who').onsubmit = (e) => {
    e.preventDefault();
    const u = userInput.value.trim();
    if (!USER_RE.test(u)) { errorBubble('A demo user name is 1 to 32 lower-case letters, digits, ".", "_" or "-".'); return; }
    setUser(u);
    location.replace(location.pathname); // a fresh page, without the other user's chat
  };

  // ---- scrolling ----

  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  const keepDown = (was) => { if (was) log.scrollTop = log.scrollHeight; };
  function append(node) {
    const was = nearBottom();
    log.append(node);
    keepDown(was);
    return node;
  }

  // ---- bubbles ----

  function userBubble(text) {
    return append(el('div', 'bubble user', text));
  }

  function errorBubble(text, action) {
    const d = el('div', 'bubble error');
    d.setAttribute('role', 'alert');
    d.append(el('span', '', text));
    if (action) d.append(' ', action);
    return append(d);
  }

  function systemBubble() { return append(el('div', 'bubble system')); }

  // An assistant message: who answered, a status line, the body (think
  // sections, Markdown, errors, cards), resource buttons and sources.
  function agentMessage() {
    const m = {
      b: el('div', 'bubble agent'), who: el('div', 'who'), line: el('div', 'status-line'),
      body: el('div', 'body'), res: el('div', 'res'), links: el('div', 'links'),
      seg: null, think: null, inThink: false, completed: false, stopAsked: false, subagent: null,
    };
    m.who.hidden = true;
    m.res.hidden = true;
    m.links.hidden = true;
    m.b.append(m.who, m.line, m.body, m.res, m.links);
    append(m.b);
    return m;
  }

  function phase(m, text) {
    m.phase = text;
    m.line.replaceChildren();
    if (text) m.line.append(el('span', 'spinner'), ' ', text);
  }

  function setWho(m, name) {
    m.who.textContent = 'Agent: ' + displayName(name);
    m.who.hidden = false;
  }

  function newSegment(m, cls) {
    const s = { el: el('div', cls), text: '', timer: 0, m };
    m.body.append(s.el);
    return s;
  }

  function render(s) {
    clearTimeout(s.timer);
    s.timer = 0;
    const was = nearBottom();
    let t = s.text;
    const open = t.indexOf('<ui-tools>');
    if (open >= 0) t = t.slice(0, open); // not complete yet
    s.el.replaceChildren(DemoMarkdown.render(t.replace(/\n+$/, '')));
    keepDown(was);
  }
  const renderSoon = (s) => { if (!s.timer) s.timer = setTimeout(() => render(s), 30); };

  // text adds one chunk of model text (ui-protocol §2.2: leading
  // whitespace-only chunks are dropped, chunks concatenated as received).
  function text(m, chunk) {
    if (m.inThink) {
      m.think.text += chunk;
      renderSoon(m.think);
      return;
    }
    if (!m.seg) {
      if (!chunk.trim()) return;
      m.seg = newSegment(m, 'md');
      chunk = chunk.replace(/^\s+/, '');
    }
    m.seg.text += chunk;
    // <ui-tools> may come split across chunks or inside text: pull it out
    // once both tags are there.
    let i;
    while ((i = m.seg.text.indexOf('<ui-tools>')) >= 0) {
      const j = m.seg.text.indexOf('</ui-tools>', i);
      if (j < 0) break;
      const json = m.seg.text.slice(i + 10, j);
      m.seg.text = m.seg.text.slice(0, i) + m.seg.text.slice(j + 11);
      try { uiTools(m, JSON.parse(json)); } catch (e) { inlineError(m, 'Unreadable UI tools: ' + e.message); }
    }
    renderSoon(m.seg);
  }

  function thinkOpen(m, body, streaming) {
    const d = el('details', 'think'), sum = el('summary', '', streaming ? 'Thinking…' : 'Thoughts');
    d.open = streaming;
    d.append(sum);
    const s = { el: el('div', 'md'), text: body || '', timer: 0, details: d, sum };
    d.append(s.el);
    m.body.append(d);
    m.think = s;
    m.seg = null; // text after the thoughts starts a new segment
    if (body) render(s);
    return s;
  }

  function thinkClose(m) {
    if (!m.think) return;
    render(m.think);
    m.think.details.open = false;
    m.think.sum.textContent = 'Thoughts';
    m.inThink = false;
  }

  function inlineError(m, msg) {
    const d = el('div', 'inline-error', msg);
    d.setAttribute('role', 'alert');
    m.body.append(d);
    m.seg = null;
  }

  // resources shows <mcp-response> objects as buttons; a pod's button puts
  // a question about its logs in the prompt box.
  function resources(m, objs) {
    m.res.hidden = false;
    for (const o of [].concat(objs)) {
      if (!o || !o.kind || o.name === undefined) continue;
      for (const n of [].concat(o.name)) {
        const label = o.kind + ' ' + (o.namespace ? o.namespace + '/' : '') + n;
        const b = button(label, () => {
          if (o.kind === 'Pod') { input.value = 'show the logs of ' + n; input.focus(); }
        }, 'resource');
        b.title = o.kind === 'Pod' ? 'Ask for its logs' : 'cluster ' + o.cluster;
        m.res.append(b);
      }
    }
  }

  function doclink(m, url) {
    const href = DemoMarkdown.safeHref(url);
    if (!href) return;
    if (m.links.hidden) { m.links.hidden = false; m.links.append(el('span', 'muted', 'Sources: ')); }
    const a = el('a', '', href.replace(/^https?:\/\//, '').replace(/\/$/, ''));
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    m.links.append(a, ' ');
  }

  // uiTools shows the UI tools the agent picked (ui-protocol §2.2).
  function uiTools(m, list) {
    const box = el('div', 'ui-tools');
    for (const t of [].concat(list)) {
      if (!t || !t.input) continue;
      const inp = t.input;
      if (t.toolName === 'suggestions' || t.toolName === 'select-option') {
        if (inp.label) box.append(el('div', 'muted', inp.label));
        for (const k of ['suggestion1', 'suggestion2', 'suggestion3', 'option1', 'option2', 'option3']) {
          if (inp[k]) box.append(button(inp[k], () => ask(inp[k]), 'suggestion'));
        }
      } else if (t.toolName === 'show-yaml' || t.toolName === 'show-yaml-diff') {
        const d = el('details'), pre = el('pre');
        d.append(el('summary', '', (inp.resourceKind || 'YAML') + ' ' + (inp.resourceName || '')));
        pre.textContent = inp.yaml || inp.patched || '';
        d.append(pre);
        box.append(d);
      }
    }
    if (box.childNodes.length) { m.body.append(box); m.seg = null; }
  }

  // ---- human validation (ui-protocol §2.2 <confirmation-response>) ----

  function planItem(x) {
    const d = el('div', 'plan-item'), r = x.resource || {};
    const p0 = x.payload;
    if (r.kind === 'MCP tool call' && p0 && typeof p0 === 'object' && p0.tool) {
      // A tool without a Kubernetes plan: its name, server and arguments.
      d.append(el('strong', '', 'Run tool '), el('code', 'plan-tool', p0.tool), ' on ', el('code', 'plan-server', p0.server || r.cluster || ''),
        p0.agent ? ' (agent ' + p0.agent + ')' : '');
      d.append(el('pre', 'plan-args', JSON.stringify(p0.arguments === undefined ? {} : p0.arguments, null, 2)));
      return d;
    }
    d.append(el('strong', '', (x.type || 'change') + ' '), el('code', '', (r.kind || '') + ' ' + (r.namespace ? r.namespace + '/' : '') + (r.name || '')),
      r.cluster ? ' in cluster ' : '', r.cluster ? el('code', '', r.cluster) : '');
    const p = x.payload;
    if (p && Array.isArray(p.patch) && p.patch.length) {
      const ul = el('ul', 'patch');
      for (const op of p.patch) ul.append(el('li', '', op.op + ' ' + op.path + (op.value !== undefined ? ' → ' + JSON.stringify(op.value) : '')));
      d.append(ul);
    }
    if (p && (p.original || p.patched)) {
      const grid = el('div', 'diff');
      for (const [label, body] of [['Now', p.original], ['After', p.patched]]) {
        if (!body) continue;
        const col = el('div');
        col.append(el('div', 'muted', label), el('pre', '', body));
        grid.append(col);
      }
      d.append(grid);
    } else if (p && x.type === 'create') {
      d.append(el('pre', '', typeof p === 'string' ? p : JSON.stringify(p, null, 2)));
    }
    return d;
  }

  // confirmation shows the plan with Yes / No; answered (a bool, from
  // history) shows the outcome instead of the buttons.
  function confirmation(m, plan, answered, agent) {
    const card = el('div', 'card confirm');
    card.append(el('div', 'card-title', 'Confirm this change?'));
    for (const x of [].concat(plan)) card.append(planItem(x));
    const outcome = el('div', 'outcome');
    const done = (yes) => {
      outcome.textContent = yes ? '✓ Confirmed' : '✗ Cancelled';
      card.classList.add(yes ? 'yes' : 'no');
      buttons.remove();
    };
    const buttons = el('div', 'buttons');
    const answer = (yes) => () => {
      done(yes);
      send({ prompt: yes ? 'yes' : 'no', agent: agent || undefined, context: {}, tags: ['confirmation'] }, true);
    };
    buttons.append(button('Yes, apply', answer(true), 'primary'), button('No', answer(false)));
    card.append(buttons, outcome);
    if (typeof answered === 'boolean') done(answered);
    m.body.append(card);
    m.seg = null;
    return card;
  }

  // ---- sign-in (ui-protocol §4.1) ----

  function abortAuth() {
    if (!pendingAuth) return;
    const p = pendingAuth;
    pendingAuth = null;
    clearInterval(p.timer);
    if (p.channel) p.channel.close();
    if (p.popup && !p.popup.closed) p.popup.close();
  }

  function authenticate(req) {
    let url = null;
    try { url = new URL(req.url); } catch (e) { /* below */ }
    if (!url || !/^https?:$/.test(url.protocol) || !url.hostname || !req.agent) {
      if (cur) inlineError(cur, 'Invalid authentication request metadata'); else errorBubble('Invalid authentication request metadata');
      return;
    }
    abortAuth(); // only one sign-in at a time: a new request replaces the old
    const host = cur ? cur.body : systemBubble();
    const name = displayName(req.agent);
    const card = el('div', 'card signin');
    const note = el('p', '', 'The tools of this agent need you to sign in as yourself. A window opens at its authorization server; allow pop-ups for this page.');
    const state = el('div', 'outcome');
    card.append(el('div', 'card-title', 'Sign in to ' + name), note);
    const buttons = el('div', 'buttons');
    const retryPrompt = lastPrompt;
    const finish = (text, ok) => {
      state.textContent = text;
      card.classList.add(ok ? 'yes' : 'no');
      buttons.remove();
      if (cur) phase(cur, ok ? 'Resuming…' : '');
      if (!ok) {
        // A way to retry: ask again (the agent asks to sign in again), or
        // reopen the chat when the sign-in came with it.
        const again = el('div', 'buttons');
        again.append(button('Try again', () => {
          again.remove();
          if (retryPrompt) ask(retryPrompt); else location.reload();
        }, 'primary'));
        card.append(again);
      }
    };
    const me = {};
    // cancel ends the sign-in at once, with what happened, and tells the
    // agent, whose turn then ends.
    const cancel = (why) => {
      if (pendingAuth !== me) return;
      abortAuth();
      finish(typeof why === 'string' ? why : 'Sign-in cancelled.', false);
      if (ws && ws.readyState === WebSocket.OPEN) ws.send('authentication_canceled');
    };
    me.cancel = cancel;
    buttons.append(button('Sign in', () => {
      const popup = window.open(req.url, 'auth_' + (req.type || 'oauth2'), 'width=600,height=700,left=200,top=200');
      if (!popup) { cancel(); state.textContent = 'The pop-up was blocked: allow pop-ups and ask again.'; return; }
      me.popup = popup;
      state.textContent = 'Authentication window opened';
      buttons.hidden = true;
      me.channel = new BroadcastChannel('oauth_channel');
      me.channel.onmessage = (ev) => {
        if (pendingAuth !== me || !ev.data) return;
        if (ev.data.type === 'oauth_failure') {
          cancel('Sign-in failed: ' + (typeof ev.data.message === 'string' ? ev.data.message : 'the authorization server did not grant access.'));
          return;
        }
        if (ev.data.type !== 'oauth_success') return;
        pendingAuth = null;
        clearInterval(me.timer);
        me.channel.close();
        finish('✓ Signed in to ' + name, true);
        ws.send('authentication_confirmed');
      };
      me.channel.onmessageerror = cancel;
      me.timer = setInterval(() => { if (popup.closed) cancel('Sign-in cancelled: the sign-in window was closed.'); }, 500);
    }, 'primary'), button('Dismiss', () => cancel('Sign-in cancelled.')));
    card.append(buttons, state);
    host.append(card);
    pendingAuth = me;
    if (cur) { cur.seg = null; phase(cur, 'Awaiting authentication'); }
  }

  async function refresh(req) {
    if (cur) phase(cur, 'Refreshing authentication token');
    let r;
    try {
      r = await fetch(api('/oauth2/refresh'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ agent: req.agent }), credentials: 'same-origin' });
    } catch (e) { r = { ok: false, status: 0, text: async () => e.message }; }
    if (r.ok) { ws.send('token_refresh_confirmed'); return; }
    const msg = 'Could not refresh the sign-in of ' + displayName(req.agent) + ': ' + (await r.text());
    if (cur) inlineError(cur, msg); else errorBubble(msg);
  }

  // ---- frames (ui-protocol §2.2) ----

  function metadata(m) {
    chatId = m.chatId;
    storage = m.storageType || '';
    agentStatus = m.agents || [];
    if (location.hash.slice(1) !== chatId) history.replaceState(null, '', location.pathname + '#' + chatId);
    setStatus(cookieUser() + ' · chat ' + chatId.slice(0, 8) + (storage ? ' · ' + storage : ''));
    picker();
    markCurrent();
    if (!log.querySelector('.bubble')) welcome();
  }

  function onFrame(f) {
    let p;
    if ((p = tag(f, 'chat-metadata')) !== null) return metadata(JSON.parse(p));
    if ((p = tag(f, 'chat-error')) !== null) {
      return errorBubble(JSON.parse(p).message, button('Start a new chat', newChat));
    }
    if (f === '<message>') {
      if (cur) closeMessage();
      cur = agentMessage();
      phase(cur, 'Working…');
      return;
    }
    if (f === '</message>') return closeMessage();
    if ((p = tag(f, 'authentication')) !== null) return authenticate(JSON.parse(p));
    if ((p = tag(f, 'token-refresh')) !== null) return refresh(JSON.parse(p));
    if (!cur || cur.completed) return; // the UI drops these outside an open message
    const m = cur;
    if ((p = tag(f, 'agent-metadata')) !== null) {
      const md = JSON.parse(p);
      const name = md.agentName || md.recommended;
      if (name) setWho(m, name);
      if (md.recommended && !recommended && !select.value) {
        recommended = true;
        m.body.append(el('div', 'muted', displayName(md.recommended) + ' has answered your last prompts: pick it above to talk to it directly.'));
        m.seg = null;
      }
      return;
    }
    if ((p = tag(f, 'processing-subagent-start')) !== null) {
      const s = JSON.parse(p);
      m.subagent = displayName(s.name) + ': ' + String(s.query || '').slice(0, 100);
      return phase(m, m.subagent);
    }
    if (tag(f, 'processing-subagent-end') !== null) return phase(m, 'Working…');
    if (f === '<processing-ui-tools/>') return phase(m, 'Processing tools');
    if (f === '<think>') { m.inThink = true; thinkOpen(m, '', true); return phase(m, 'Thinking…'); }
    if (f === '</think>') { thinkClose(m); return phase(m, 'Working…'); }
    if ((p = tag(f, 'error')) !== null) return inlineError(m, 'Error processing message: ' + JSON.parse(p).message);
    if ((p = tag(f, 'auth-error')) !== null) return inlineError(m, 'Authentication error: ' + JSON.parse(p).message);
    if ((p = tag(f, 'mcp-response')) !== null) return resources(m, JSON.parse(p));
    if ((p = tag(f, 'mcp-doclink')) !== null) return doclink(m, p);
    if ((p = tag(f, 'ui-tools')) !== null) return uiTools(m, JSON.parse(p));
    if ((p = tag(f, 'confirmation-response')) !== null) {
      confirmation(m, JSON.parse(p), undefined, select.value);
      m.completed = true;
      return phase(m, 'Waiting for your answer');
    }
    if (m.phase === 'Working…') phase(m, 'Generating response');
    text(m, f);
  }

  function closeMessage() {
    const m = cur;
    cur = null;
    if (!m) return;
    if (m.seg) render(m.seg);
    if (m.inThink) thinkClose(m);
    phase(m, '');
    m.b.classList.add('done');
    if (m.subagent) m.line.textContent = '✓ ' + m.subagent;
    if (m.stopAsked) m.body.append(el('div', 'muted stopped', 'Stopped.'));
    if (!m.body.childNodes.length && m.res.hidden && m.links.hidden) m.b.remove();
    loadChats();
  }

  // ---- the socket (ui-protocol §1.3) ----

  function connect(id) {
    const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const sock = new WebSocket(proto + location.host + base + '/v1/ws/messages' + (id ? '/' + encodeURIComponent(id) : ''));
    ws = sock;
    sock.onopen = () => setStatus('connected');
    sock.onerror = () => { if (ws === sock) errorBubble('WebSocket error: the agent cannot be reached.'); };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      abortAuth();
      if (cur) closeMessage();
      setStatus('disconnected');
      if (!(ev.code === 1000 && ev.reason === MANUAL) && ev.code !== 1000) errorBubble('Connection closed (code ' + ev.code + (ev.reason ? ': ' + ev.reason : '') + '). Sending a prompt reconnects.');
    };
    sock.onmessage = (ev) => {
      try { onFrame(ev.data); } catch (e) { errorBubble('Unreadable frame from the agent: ' + e.message); }
    };
  }

  function closeSocket() {
    abortAuth();
    cur = null;
    if (!ws) return;
    const old = ws;
    ws = null;
    if (old.readyState <= WebSocket.OPEN) old.close(1000, MANUAL);
  }

  // send writes a prompt frame, reconnecting to the current chat when the
  // socket closed.
  function send(obj, quiet) {
    const msg = JSON.stringify(obj);
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(msg); return; }
    if (!ws || ws.readyState >= WebSocket.CLOSING) connect(chatId);
    ws.addEventListener('open', () => ws.send(msg), { once: true });
    if (!quiet) setStatus('connecting…');
  }

  // ask sends a prompt. A sign-in still waiting is cancelled first (and
  // says so), so that the agent's turn ends and this prompt is answered
  // next instead of waiting behind it.
  function ask(prompt) {
    if (pendingAuth && pendingAuth.cancel) pendingAuth.cancel('Sign-in cancelled: you sent a new message.');
    lastPrompt = prompt;
    userBubble(prompt);
    send({ prompt, agent: select.value || undefined, context: {} });
  }

  function stop() {
    if (!cur || !ws || ws.readyState !== WebSocket.OPEN) return;
    cur.stopAsked = true;
    phase(cur, 'Stopping…');
    ws.send('<stop>');
  }

  // ---- agents ----

  async function loadAgents() {
    try {
      const r = await fetch(base + '/demo/agents');
      if (r.ok) for (const a of await r.json()) agentInfo[a.name] = a;
    } catch (e) { /* names only */ }
    picker();
  }

  function picker() {
    const keep = select.value;
    select.length = 1;
    for (const a of agentStatus) {
      const o = new Option(displayName(a.name) + ' — ' + a.status, a.name);
      o.disabled = a.status !== 'active';
      o.title = a.description || (agentInfo[a.name] && agentInfo[a.name].description) || '';
      select.add(o);
    }
    const active = agentStatus.filter((a) => a.status === 'active');
    select.options[0].disabled = active.length < 2;
    select.value = keep;
    if (select.selectedIndex < 0 || select.options[select.selectedIndex].disabled) select.value = active.length === 1 ? active[0].name : '';
    describe();
  }

  function describe() {
    about.replaceChildren();
    const name = select.value;
    if (!name) {
      about.append('The supervisor picks an agent for each prompt among ');
      agentStatus.forEach((a, i) => {
        if (i) about.append(', ');
        about.append(dot(a.status), displayName(a.name));
      });
      about.append('.');
    } else {
      const a = agentStatus.find((x) => x.name === name) || { status: 'unknown' };
      const info = agentInfo[name] || {};
      about.append(dot(a.status), a.status + ' · ' + (info.description || ''));
    }
    for (const a of agentStatus) {
      if (a.status !== 'active' && a.description) about.append(el('div', 'agent-error', displayName(a.name) + ' is unavailable: ' + a.description));
    }
  }

  const dot = (status) => { const s = el('span', 'dot ' + status); s.title = status; return s; };

  // ---- chats (ui-protocol §3.1) ----

  async function apiError(r, what) {
    let t = '';
    try { t = await r.text(); } catch (e) { /* none */ }
    try { t = JSON.parse(t).detail || t; } catch (e) { /* plain text */ }
    errorBubble(what + ': ' + (t || r.status));
  }

  async function loadChats() {
    let r;
    try { r = await fetch(api('/chats')); } catch (e) { errorBubble('Could not load the chats: ' + e.message); return; }
    if (!r.ok) { await apiError(r, 'Could not load the chats'); return; }
    const chats = (await r.json()).filter((c) => c.name);
    chatList.replaceChildren(...chats.map(chatItem));
    noChats.hidden = chats.length > 0;
  }

  function markCurrent() {
    for (const li of chatList.children) li.classList.toggle('current', li.dataset.id === chatId);
  }

  function chatItem(c) {
    const li = el('li', c.id === chatId ? 'current' : '');
    li.dataset.id = c.id;
    const open = button('', () => openChat(c.id), 'open');
    const name = c.name.split('\n')[0].slice(0, 500);
    open.append(el('span', 'name', name), el('span', 'date muted', 'Started on ' + new Date(c.createdAt).toLocaleString()));
    open.title = name;
    const rename = button('✎', () => {
      const f = el('form', 'rename'), inp = el('input');
      inp.value = c.name;
      inp.maxLength = 500;
      inp.setAttribute('aria-label', 'New name');
      f.append(inp);
      f.onsubmit = async (e) => {
        e.preventDefault();
        const v = inp.value.trim();
        if (!v) return;
        const r = await fetch(api('/chats/' + encodeURIComponent(c.id)), { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: v }) });
        if (!r.ok) await apiError(r, 'Could not rename the chat');
        loadChats();
      };
      inp.onkeydown = (e) => { if (e.key === 'Escape') { e.stopPropagation(); loadChats(); } };
      li.replaceChildren(f);
      inp.focus();
      inp.select();
    }, 'icon rename-chat');
    rename.title = 'Rename';
    const del = button('×', async () => {
      if (!del.classList.contains('armed')) { // a second click deletes
        del.classList.add('armed');
        del.textContent = 'Delete?';
        return;
      }
      const r = await fetch(api('/chats/' + encodeURIComponent(c.id)), { method: 'DELETE' });
      if (!r.ok) { await apiError(r, 'Could not delete the chat'); return; }
      if (c.id === chatId) newChat();
      loadChats();
    }, 'icon delete-chat');
    del.title = 'Delete';
    del.onblur = () => { del.classList.remove('armed'); del.textContent = '×'; };
    li.append(open, rename, del);
    return li;
  }

  // historyRow shows one row of GET /chats/{id}/messages.
  function historyRow(row) {
    if (row.role !== 'agent') { userBubble((row.labels && row.labels.summary) || row.message); return; }
    const m = agentMessage();
    m.b.classList.add('done', 'history');
    if (row.agent) setWho(m, row.agent);
    let t = row.message || '';
    const plan = tag(t, 'confirmation-response');
    if (plan !== null) {
      try { confirmation(m, JSON.parse(plan), row.confirmation, row.agent); } catch (e) { inlineError(m, 'Unreadable confirmation'); }
      return;
    }
    let x = /^<mcp-response>([\s\S]*?)<\/mcp-response>/.exec(t);
    if (x) {
      try { resources(m, JSON.parse(x[1])); } catch (e) { /* shown as text below */ }
      t = t.slice(x[0].length);
    }
    t = t.replace(/<mcp-doclink>([\s\S]*?)<\/mcp-doclink>/g, (_, u) => { doclink(m, u); return ''; });
    x = /^\s*<think>([\s\S]*?)<\/think>/.exec(t);
    if (x) { thinkOpen(m, x[1], false); t = t.slice(x[0].length); }
    text(m, t);
    if (m.seg) render(m.seg);
    if (row.tools) uiTools(m, row.tools);
  }

  async function openChat(id) {
    let r;
    try { r = await fetch(api('/chats/' + encodeURIComponent(id) + '/messages')); } catch (e) { errorBubble('Could not open the chat: ' + e.message); return false; }
    if (!r.ok) { await apiError(r, 'Could not open the chat'); return false; }
    const rows = await r.json();
    closeSocket();
    log.replaceChildren();
    chatId = id;
    history.replaceState(null, '', location.pathname + '#' + id);
    rows.forEach(historyRow);
    log.scrollTop = log.scrollHeight;
    markCurrent();
    document.body.classList.remove('show-chats');
    connect(id);
    return true;
  }

  function newChat() {
    closeSocket();
    chatId = null;
    log.replaceChildren();
    history.replaceState(null, '', location.pathname);
    markCurrent();
    document.body.classList.remove('show-chats');
    connect(null);
    input.focus();
  }

  function welcome() {
    const d = systemBubble();
    d.classList.add('welcome');
    d.append(el('div', '', 'Hello! This demo agent answers from a made-up cluster and keeps notes behind an OAuth sign-in. Try:'));
    const box = el('div', 'ui-tools');
    for (const s of ['list the pods in default', 'list the deployments', 'show the logs of db-0', 'scale web to 3', 'show my notes']) {
      box.append(button(s, () => ask(s), 'suggestion'));
    }
    d.append(box);
  }

  // ---- input ----

  form.onsubmit = (e) => {
    e.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    input.value = '';
    ask(t);
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && cur) { e.preventDefault(); stop(); }
  });
  select.onchange = describe;
  $('new-chat').onclick = newChat;
  $('toggle-chats').onclick = () => {
    const on = document.body.classList.toggle('show-chats');
    $('toggle-chats').setAttribute('aria-expanded', String(on));
  };

  // A chat id in the fragment (set as soon as the chat has one) survives a
  // reload: the page opens that chat again with its history.
  loadAgents();
  loadChats();
  const start = location.hash.slice(1);
  if (start) {
    openChat(start).then((ok) => {
      if (!ok) { history.replaceState(null, '', location.pathname); connect(null); }
    });
  } else connect(null);
})();
