// Benchmark (reported, not asserted): the dashboard's first load (bytes on the
// wire, time to the first rendered state), the latency from a change in the
// daemon to the DOM, and evsed's CPU at idle with 50 open event streams.
// Run by bench/dashboard.sh.
import { readFileSync } from 'node:fs';
import { Evsed, launch, lockedContext, until, sleep } from '../tests/browser/harness.mjs';

const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);  // utime + stime, in clock ticks
};
const TICK = 100;  // USER_HZ on Linux

const evsed = await new Evsed({ config: '' }).start();
const browser = await launch();
try {
  // First load, cold cache.
  const ctx = await lockedContext(browser, { viewport: { width: 1200, height: 900 } });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  let wire = 0;
  const files = [];
  cdp.on('Network.loadingFinished', (e) => { wire += e.encodedDataLength; });
  cdp.on('Network.responseReceived', (e) => files.push(e.response.url.replace(evsed.url, '')));
  const t0 = Date.now();
  await page.goto(`${evsed.url}/`);
  await until('first render', async () => (await page.getByRole('status', { name: 'State' }).textContent()) !== '…', 10000);
  const firstRender = Date.now() - t0;
  await sleep(500);
  console.log(`first load: ${(wire / 1024).toFixed(1)} KB on the wire (${files.filter((f) => f !== '/events').length} files, ` +
    `headers included; the open event stream not counted), first rendered state after ${firstRender} ms`);

  // Daemon change -> DOM: a mode change over REST, seen by a MutationObserver.
  const latencies = [];
  for (let i = 0; i < 20; i++) {
    const mode = i % 2 ? 1 : 2;  // Normal, Solar
    const name = mode === 1 ? 'Normal' : 'Solar';
    await page.evaluate((n) => new Promise((resolve) => {
      const b = [...document.querySelectorAll('[data-mode]')].find((x) => x.textContent === n);
      window.__seen = null;
      new MutationObserver((_, o) => {
        if (b.getAttribute('aria-pressed') === 'true') { window.__seen = Date.now(); o.disconnect(); }
      }).observe(b, { attributes: true });
      resolve();
    }), name);
    const sent = Date.now();
    await fetch(`${evsed.url}/settings?mode=${mode}`, { method: 'POST' });
    const seen = await until('DOM', () => page.evaluate(() => window.__seen), 5000);
    latencies.push(seen - sent);
  }
  latencies.sort((a, b) => a - b);
  console.log(`change -> DOM (POST /settings?mode, until the button shows it): median ${latencies[10]} ms, ` +
    `worst ${latencies[latencies.length - 1]} ms of ${latencies.length}`);
  await ctx.close();

  // CPU at idle: without streams, then with 50.
  const pid = evsed.proc.pid;
  const measure = async (seconds) => {
    const a = cpuTicks(pid);
    await sleep(seconds * 1000);
    return ((cpuTicks(pid) - a) / TICK / seconds) * 100;
  };
  const idle = await measure(10);
  const streams = [];
  for (let i = 0; i < 50; i++) {
    const ctl = new AbortController();
    const r = await fetch(`${evsed.url}/events`, { signal: ctl.signal });
    const reader = r.body.getReader();
    (async () => { try { for (;;) { const { done } = await reader.read(); if (done) break; } } catch { /* aborted */ } })();
    streams.push(ctl);
  }
  const busy = await measure(10);
  console.log(`evsed CPU at idle: ${idle.toFixed(2)} % without streams, ${busy.toFixed(2)} % with 50 open event streams`);
  for (const s of streams) s.abort();
} finally {
  await browser.close();
  await evsed.close();
}
