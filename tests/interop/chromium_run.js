// chromium_run.js — the frame of the small Chromium checks (auth_browser.js,
// auth_expose.js): Debian's Chromium headless in a throwaway profile,
// `say(good, name, what)` printing `ok NAME: …` or `FAIL NAME: …`, and the
// exit status (1 if any check failed or the body threw).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

// runChecks(body): body(ctx, say) is awaited; then the browser goes and the
// process exits
async function runChecks(body) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-chromium-'));
  let rc = 0;
  const say = (good, name, what) => { console.log(`${good ? 'ok' : 'FAIL'} ${name}: ${what}`); if (!good) rc = 1; };
  let ctx = null;
  try {
    ctx = await chromium.launchPersistentContext(dir, {
      executablePath: '/usr/bin/chromium', headless: true, timeout: 60000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
             '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--no-first-run'],
    });
    await body(ctx, say);
  } catch (e) {
    say(false, 'run', e.stack);
  } finally {
    if (ctx) await ctx.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(rc);
}

module.exports = { runChecks };
