#!/usr/bin/env node
// auth_browser.js — Chromium (Debian's, headless, driven by playwright-core)
// against a `pushwire serve --origin http://127.0.0.1:PORT`: a page from that
// origin opens a WebSocket, an EventSource and a fetch; a page from another
// origin (http://localhost:PORT — same server, another origin to the
// browser) tries the same and must fail on each.
//
//   node auth_browser.js PORT
//
// Prints one `ok NAME: …` or `FAIL NAME: …` line per check; exit 1 if any
// failed.  Every wait is bounded (WAIT_MS).
'use strict';
const { runChecks } = require('./chromium_run');

const WAIT_MS = 15000;
const PORT = Number(process.argv[2]);

// Runs in the page: tries a WebSocket, an EventSource and a cross-origin-safe
// fetch to the server at 127.0.0.1; resolves to what each did.
async function attempt({ port, WAIT_MS }) {
  const settle = (fn) => new Promise((ok) => {
    const t = setTimeout(() => ok('timeout'), WAIT_MS);
    fn((v) => { clearTimeout(t); ok(v); });
  });
  const ws = await settle((done) => {
    const w = new WebSocket(`ws://127.0.0.1:${port}/ws/browser-origin`);
    w.onopen = () => { w.close(); done('open'); };
    w.onerror = () => done('error');
  });
  const sse = await settle((done) => {
    const e = new EventSource(`http://127.0.0.1:${port}/sse/browser-origin`);
    e.onopen = () => { e.close(); done('open'); };
    e.onerror = () => { e.close(); done('error'); };
  });
  const post = await fetch(`http://127.0.0.1:${port}/pub/browser-origin`, { method: 'POST', body: 'x' })
    .then((r) => `status ${r.status}`, () => 'error');
  return { ws, sse, post };
}

runChecks(async (ctx, say) => {
  for (const [name, host, want] of [['allowed', '127.0.0.1', 'open'], ['other-origin', 'localhost', 'error']]) {
    const p = await ctx.newPage();
    await p.goto(`http://${host}:${PORT}/healthz`, { timeout: WAIT_MS });
    const r = await p.evaluate(attempt, { port: PORT, WAIT_MS });
    const wantPost = want === 'open' ? 'status 200' : 'error'; // a 403 without ACAO is a network error to fetch
    say(r.ws === want && r.sse === want && r.post === wantPost, name,
        `page at http://${host}:${PORT}: WebSocket ${r.ws}, EventSource ${r.sse}, fetch POST ${r.post}`);
    await p.close();
  }
});
