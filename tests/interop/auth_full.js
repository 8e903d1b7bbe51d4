#!/usr/bin/env node
// auth_full.js — Chromium (headless, playwright-core): a page of the one
// origin `pushwire serve --origin` allows reads a refusal the server gave
// before reading any request (--max-conns-per-ip, --max-conns): no Origin
// was read, so the answer names the one --origin (serve(1) Origins).
//
//   node auth_full.js PAGE_PORT PORT
//
// The page is http://127.0.0.1:PAGE_PORT/healthz (any server: only its
// origin matters); the server under test at PORT runs with --origin
// http://127.0.0.1:PAGE_PORT, --max-conns-per-ip 1 and --limit-exempt none.
// In the page: an EventSource (the address's one connection), then a
// fetch, plain and with credentials: "include" (429 and Retry-After, not a
// network error), then a second EventSource (its readyState after the
// error is printed: what a page must expect).  Prints `ok …` or `FAIL …`
// per check; exit 1 if any failed.  Every wait is bounded (WAIT_MS).
'use strict';
const { runChecks } = require('./chromium_run');

const WAIT_MS = 15000;
const [PAGE_PORT, PORT] = [Number(process.argv[2]), Number(process.argv[3])];

async function attempt({ port, WAIT_MS }) {
  const base = `http://127.0.0.1:${port}`;
  const read = (r) => ({ status: r.status, retry: r.headers.get('Retry-After') });
  const es = (path) => new Promise((ok) => {
    const t = setTimeout(() => ok({ state: 'timeout' }), WAIT_MS);
    const e = new EventSource(`${base}${path}`);
    e.onopen = () => { clearTimeout(t); ok({ state: 'open', e }); };
    e.onerror = () => { clearTimeout(t); const rs = e.readyState; e.close(); ok({ state: 'error', readyState: rs }); };
  });
  const first = await es('/sse/full');
  const plain = await fetch(`${base}/poll/full?timeout=0`).then(read, (e) => ({ error: String(e) }));
  const cred = await fetch(`${base}/poll/full?timeout=0`, { credentials: 'include' })
    .then(read, (e) => ({ error: String(e) }));
  const second = await es('/sse/full2');
  if (first.e) first.e.close();
  return { first: first.state, plain, cred, second: { state: second.state, readyState: second.readyState } };
}

runChecks(async (ctx, say) => {
  const p = await ctx.newPage();
  await p.goto(`http://127.0.0.1:${PAGE_PORT}/healthz`, { timeout: WAIT_MS });
  const r = await p.evaluate(attempt, { port: PORT, WAIT_MS });
  say(r.first === 'open', 'eventsource', `the address's one connection: ${r.first}`);
  say(r.plain.status === 429 && r.plain.retry === '1', 'fetch', `over the limit: ${JSON.stringify(r.plain)}`);
  say(r.cred.status === 429 && r.cred.retry === '1', 'fetch-credentials',
      `over the limit, credentials "include": ${JSON.stringify(r.cred)}`);
  say(r.second.state === 'error', 'eventsource-refused', `a second EventSource: ${JSON.stringify(r.second)}`);
});
