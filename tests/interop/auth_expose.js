#!/usr/bin/env node
// auth_expose.js — Chromium (headless, playwright-core): a page on another
// origin reads the headers a refusal of `pushwire serve` tells it by.  A
// cross-origin fetch sees only the CORS-safelisted answer headers unless
// Access-Control-Expose-Headers names the others.
//
//   node auth_expose.js PAGE_PORT PORT TOKEN
//
// The page is http://127.0.0.1:PAGE_PORT/healthz (any server: only its
// origin matters); the server under test at PORT runs with --token-file
// holding TOKEN, --max-conns-per-ip 1 and --limit-exempt none.  In the page:
// a poll without the token (401: WWW-Authenticate), then an EventSource
// with it (the address's one connection), then a poll with it (429:
// Retry-After).  Prints `ok …` or `FAIL …` per check; exit 1 if any failed.
// Every wait is bounded (WAIT_MS).
'use strict';
const { runChecks } = require('./chromium_run');

const WAIT_MS = 15000;
const [PAGE_PORT, PORT] = [Number(process.argv[2]), Number(process.argv[3])];
const TOKEN = process.argv[4];

async function attempt({ port, token, WAIT_MS }) {
  const base = `http://127.0.0.1:${port}`;
  const read = (r) => ({ status: r.status, www: r.headers.get('WWW-Authenticate'), retry: r.headers.get('Retry-After') });
  const none = await fetch(`${base}/poll/expose?timeout=0`).then(read, (e) => ({ error: String(e) }));
  // the 401's connection may still count against the address for a moment
  // after the answer arrives (the server closes it once written): retry
  // the EventSource while it is refused, a bounded number of times
  let es = { state: 'not tried' };
  for (let i = 0; i < 50 && es.state !== 'open'; i++) {
    if (i) await new Promise((ok) => setTimeout(ok, 100));
    es = await new Promise((ok) => {
      const t = setTimeout(() => ok({ state: 'timeout' }), WAIT_MS);
      const e = new EventSource(`${base}/sse/expose?token=${encodeURIComponent(token)}`);
      e.onopen = () => { clearTimeout(t); ok({ state: 'open', e }); };
      e.onerror = () => { clearTimeout(t); e.close(); ok({ state: 'error' }); };
    });
  }
  const busy = await fetch(`${base}/poll/expose?timeout=0&token=${encodeURIComponent(token)}`)
    .then(read, (e) => ({ error: String(e) }));
  if (es.e) es.e.close();
  return { none, es: es.state, busy };
}

runChecks(async (ctx, say) => {
  const p = await ctx.newPage();
  await p.goto(`http://127.0.0.1:${PAGE_PORT}/healthz`, { timeout: WAIT_MS });
  const r = await p.evaluate(attempt, { port: PORT, token: TOKEN, WAIT_MS });
  say(r.none.status === 401 && /^Bearer realm="pushwire"/.test(r.none.www || ''), 'www-authenticate',
      `no token: ${JSON.stringify(r.none)}`);
  say(r.es === 'open', 'eventsource', `with the token: ${r.es}`);
  say(r.busy.status === 429 && r.busy.retry === '1', 'retry-after', `second connection: ${JSON.stringify(r.busy)}`);
});
