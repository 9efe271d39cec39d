// A small Markdown renderer for the demo page: headings, paragraphs (a
// newline is a line break, as the Rancher UI's markdown-it "breaks"
// option), emphasis, strike-through, code spans and fenced code, block
// quotes, nested lists, tables, rules, links and bare URLs.
//
// It is safe by construction: it builds DOM nodes and puts text in them
// with createTextNode, never innerHTML, so HTML written by the model shows
// as text. Links keep only http:, https: and mailto: URLs; images become
// links (nothing is loaded from a URL the model wrote).
(function (global) {
  'use strict';

  const LIST = /^( *)([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
  const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^`\s]*)/;
  const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
  const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
  const QUOTE = /^ {0,3}> ?/;
  const TABLE_SEP = /^ *\|? *:?-+:? *(\| *:?-+:? *)*\|? *$/;
  const URL_RE = /^(?:https?:\/\/|mailto:)[^\s<>"]*[^\s<>".,:;'")\]!?*_~]/i;

  function el(tag, cls) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    return e;
  }

  function indentOf(line) { return line.length - line.replace(/^ +/, '').length; }

  // safeHref is the URL a link may point at, or null.
  function safeHref(raw) {
    try {
      const u = new URL(raw.trim(), global.location ? global.location.href : 'http://localhost/');
      if (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'mailto:') return u.href;
    } catch (e) { /* not a URL */ }
    return null;
  }

  function link(href, children) {
    const safe = safeHref(href);
    if (!safe) { // keep the text, drop the link
      const s = el('span');
      s.append(...children);
      return s;
    }
    const a = el('a');
    a.href = safe;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.append(...children);
    return a;
  }

  function startsBlock(line, next) {
    return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || LIST.test(line) ||
      (line.includes('|') && next !== undefined && TABLE_SEP.test(next) && next.includes('-'));
  }

  // ---- blocks ----

  function blocks(lines) {
    const out = document.createDocumentFragment();
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) { i++; continue; }
      let m;
      if ((m = FENCE.exec(line))) {
        const fence = m[1], body = [];
        i++;
        while (i < lines.length && !new RegExp('^ {0,3}' + fence[0] + '{' + fence.length + ',}[ \\t]*$').test(lines[i])) body.push(lines[i++]);
        i++; // the closing fence (absent while the answer still streams)
        const pre = el('pre'), code = el('code');
        if (m[2]) code.className = 'language-' + m[2].replace(/[^\w+-]/g, '');
        code.textContent = body.join('\n');
        pre.append(code);
        out.append(pre);
        continue;
      }
      if ((m = HEADING.exec(line))) {
        const h = el('h' + m[1].length);
        h.append(inline(m[2] || ''));
        out.append(h);
        i++;
        continue;
      }
      if (RULE.test(line)) { out.append(el('hr')); i++; continue; }
      if (QUOTE.test(line)) {
        const body = [];
        while (i < lines.length && lines[i].trim() && (QUOTE.test(lines[i]) || !startsBlock(lines[i], lines[i + 1]))) {
          body.push(lines[i].replace(QUOTE, ''));
          i++;
        }
        const q = el('blockquote');
        q.append(blocks(body));
        out.append(q);
        continue;
      }
      if (line.includes('|') && i + 1 < lines.length && lines[i + 1].includes('-') && TABLE_SEP.test(lines[i + 1])) {
        i = table(lines, i, out);
        continue;
      }
      if (LIST.test(line)) {
        i = list(lines, i, out);
        continue;
      }
      const para = [line];
      i++;
      while (i < lines.length && lines[i].trim() && !startsBlock(lines[i], lines[i + 1])) para.push(lines[i++]);
      const p = el('p');
      p.append(inline(para.map((l) => l.trim()).join('\n')));
      out.append(p);
    }
    return out;
  }

  function cells(row) {
    let r = row.trim();
    if (r.startsWith('|')) r = r.slice(1);
    if (r.endsWith('|') && !r.endsWith('\\|')) r = r.slice(0, -1);
    const out = [];
    let cur = '';
    for (let k = 0; k < r.length; k++) {
      if (r[k] === '\\' && r[k + 1] === '|') { cur += '|'; k++; continue; }
      if (r[k] === '|') { out.push(cur.trim()); cur = ''; continue; }
      cur += r[k];
    }
    out.push(cur.trim());
    return out;
  }

  function table(lines, i, out) {
    const head = cells(lines[i]);
    const aligns = cells(lines[i + 1]).map((c) => (c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : c.startsWith(':') ? 'left' : ''));
    const wrap = el('div', 'md-table'), t = el('table'), thead = el('thead'), tbody = el('tbody');
    const row = (vals, tag) => {
      const tr = el('tr');
      head.forEach((_, k) => {
        const c = el(tag);
        if (aligns[k]) c.style.textAlign = aligns[k];
        c.append(inline(vals[k] || ''));
        tr.append(c);
      });
      return tr;
    };
    thead.append(row(head, 'th'));
    i += 2;
    while (i < lines.length && lines[i].trim() && lines[i].includes('|')) tbody.append(row(cells(lines[i++]), 'td'));
    t.append(thead, tbody);
    wrap.append(t);
    out.append(wrap);
    return i;
  }

  function list(lines, i, out) {
    const first = LIST.exec(lines[i]);
    const indent = first[1].length, ordered = /\d/.test(first[2]);
    const l = el(ordered ? 'ol' : 'ul');
    if (ordered && parseInt(first[2], 10) !== 1) l.start = parseInt(first[2], 10);
    while (i < lines.length) {
      const m = LIST.exec(lines[i]);
      if (!m || m[1].length !== indent || /\d/.test(m[2]) !== ordered) break;
      const inner = m[1].length + m[2].length + 1;
      const body = [m[3]];
      i++;
      while (i < lines.length) {
        const line = lines[i];
        if (!line.trim()) {
          let j = i;
          while (j < lines.length && !lines[j].trim()) j++;
          if (j < lines.length && indentOf(lines[j]) >= inner) { body.push(''); i++; continue; }
          break;
        }
        const lm = LIST.exec(line);
        if (lm && lm[1].length <= indent) break;
        if (indentOf(line) > indent) { body.push(line.slice(Math.min(indentOf(line), inner))); i++; continue; }
        if (startsBlock(line, lines[i + 1])) break;
        body.push(line); // a lazy continuation of the item's text
        i++;
      }
      // Blank lines between items of one list keep the list going.
      let j = i;
      while (j < lines.length && !lines[j].trim()) j++;
      const next = j < lines.length ? LIST.exec(lines[j]) : null;
      if (next && next[1].length === indent && /\d/.test(next[2]) === ordered) i = j;
      const li = el('li'), content = blocks(body);
      if (content.childNodes.length === 1 && content.firstChild.nodeName === 'P') li.append(...content.firstChild.childNodes);
      else if (content.firstChild && content.firstChild.nodeName === 'P') {
        li.append(...content.firstChild.childNodes);
        content.removeChild(content.firstChild);
        li.append(content);
      } else li.append(content);
      l.append(li);
    }
    out.append(l);
    return i;
  }

  // ---- inline ----

  const PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

  function inline(src, noLinks) {
    const out = document.createDocumentFragment();
    let text = '';
    const flush = () => { if (text) { out.append(document.createTextNode(text)); text = ''; } };
    let i = 0;
    while (i < src.length) {
      const c = src[i];
      if (c === '\\' && i + 1 < src.length && PUNCT.includes(src[i + 1])) { text += src[i + 1]; i += 2; continue; }
      if (c === '\n') { flush(); out.append(el('br')); i++; continue; }
      if (c === '`') {
        const run = /^`+/.exec(src.slice(i))[0];
        const end = src.indexOf(run, i + run.length);
        if (end > 0 && src[end + run.length] !== '`') {
          flush();
          const code = el('code');
          let body = src.slice(i + run.length, end).replace(/\n/g, ' ');
          if (/^ .* $/.test(body) && body.trim()) body = body.slice(1, -1);
          code.textContent = body;
          out.append(code);
          i = end + run.length;
          continue;
        }
        text += run;
        i += run.length;
        continue;
      }
      if (!noLinks && c === '<') {
        const m = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(src.slice(i));
        if (m) { flush(); out.append(link(m[1], [document.createTextNode(m[1])])); i += m[0].length; continue; }
      }
      if (!noLinks && (c === '[' || (c === '!' && src[i + 1] === '['))) {
        const r = linkAt(src, c === '!' ? i + 1 : i);
        if (r) {
          flush();
          const kids = c === '!' ? [document.createTextNode(r.text || r.href)] : [inline(r.text, true)];
          out.append(link(r.href, kids));
          i = r.end;
          continue;
        }
      }
      if (!noLinks && (c === 'h' || c === 'm') && (i === 0 || /[\s(*_~]/.test(src[i - 1]))) {
        const m = URL_RE.exec(src.slice(i));
        if (m) { flush(); out.append(link(m[0], [document.createTextNode(m[0])])); i += m[0].length; continue; }
      }
      if (c === '*' || c === '_' || c === '~') {
        const r = emphasisAt(src, i, noLinks);
        if (r) { flush(); out.append(r.node); i = r.end; continue; }
      }
      text += c;
      i++;
    }
    flush();
    return out;
  }

  // linkAt reads [text](href "title") at i.
  function linkAt(src, i) {
    let depth = 0, k = i;
    for (; k < src.length; k++) {
      if (src[k] === '\\') { k++; continue; }
      if (src[k] === '[') depth++;
      else if (src[k] === ']' && --depth === 0) break;
    }
    if (k >= src.length || src[k + 1] !== '(') return null;
    const m = /^\(\s*<?([^\s)>]*)>?(?:\s+"[^"]*")?\s*\)/.exec(src.slice(k + 1));
    if (!m) return null;
    return { text: src.slice(i + 1, k), href: m[1], end: k + 1 + m[0].length };
  }

  // emphasisAt reads **strong**, *em*, _em_, __strong__ or ~~del~~ at i.
  function emphasisAt(src, i, noLinks) {
    const c = src[i];
    let d = c;
    if (src[i + 1] === c) d = c + c;
    if (c === '~' && d.length !== 2) return null;
    const after = src[i + d.length];
    if (!after || /\s/.test(after)) return null;
    if (c === '_' && i > 0 && /[\p{L}\p{N}]/u.test(src[i - 1])) return null; // snake_case
    let k = i + d.length;
    while (true) {
      k = src.indexOf(d, k);
      if (k < 0) return null;
      const closeOk = !/\s/.test(src[k - 1]) && (d.length === 2 || src[k + 1] !== c) &&
        !(c === '_' && k + d.length < src.length && /[\p{L}\p{N}]/u.test(src[k + d.length]));
      if (closeOk && k > i + d.length) break;
      k += d.length;
    }
    const tag = c === '~' ? 'del' : d.length === 2 ? 'strong' : 'em';
    const node = el(tag);
    node.append(inline(src.slice(i + d.length, k), noLinks));
    return { node, end: k + d.length };
  }

  // render returns a fragment for the Markdown text src. The agent writes
  // every "<" of model text as "&lt;" (so the UI parses no frame in it); it
  // is shown as "<", as markdown-it shows it, and stays text.
  function render(src) {
    return blocks(String(src).replace(/&lt;/g, '<').replace(/\r\n?/g, '\n').replace(/\t/g, '    ').split('\n'));
  }

  global.DemoMarkdown = { render, safeHref };
})(window);
