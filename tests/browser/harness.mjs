// What the browser tests stand on: the real evsed binary on a free loopback
// port with its own state directory, and Debian's chromium through
// playwright-core (its executable path; playwright never downloads a browser).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.EVSED_CHROMIUM || '/usr/bin/chromium';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export class Evsed {
  constructor({ config = '', port, stateDir } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'evsed-browser-'));
    this.stateDir = stateDir || join(this.dir, 'state');
    this.config = join(this.dir, 'evsed.toml');
    writeFileSync(this.config, config);
    this.port = port;
    this.log = [];
  }

  async start() {
    this.port = this.port || (await freePort());
    const binary = process.env.EVSED_BINARY;
    if (!binary) throw new Error('EVSED_BINARY is not set');
    this.proc = spawn(binary, ['--simulate', '--listen', `127.0.0.1:${this.port}`, '--state-dir', this.stateDir,
      '--config', this.config], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    this.proc.stderr.on('data', (d) => this.log.push(String(d)));
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    for (let i = 0; i < 100; i++) {
      try {
        const r = await fetch(`${this.url}/settings`);
        if (r.status < 500) return this;  // 401 too: mode "all" asks for a login
      } catch { /* not yet */ }
      await sleep(100);
    }
    throw new Error(`evsed did not answer:\n${this.log.join('')}`);
  }

  get url() { return `http://127.0.0.1:${this.port}`; }

  async settings() { return (await fetch(`${this.url}/settings`)).json(); }
  async simulate(query) {
    const r = await fetch(`${this.url}/simulator?${query}`, { method: 'POST' });
    if (!r.ok) throw new Error(`/simulator?${query}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill(signal);
    await this.exited;
  }

  async close() {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(what, predicate, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await predicate();
      if (last) return last;
    } catch (e) { last = e; }
    await sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last})`);
}

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

// A context that lets nothing leave 127.0.0.1: every other request is
// recorded and aborted, and the test fails on it.
export async function lockedContext(browser, options = {}) {
  const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true, ...options });
  context.foreign = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    context.foreign.push(url.href);
    return route.abort();
  });
  return context;
}
