// Logging in through the browser: with [http] auth = "writes" and "all" and no
// trusted network, chromium asks for the account (HTTP Basic, as a person
// would type it into the browser's prompt) and the page works with it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Evsed, launch, lockedContext, until } from './harness.mjs';

const PASSWORD = 'a browser password';
const running = [];
let browser;

after(async () => {
  await browser?.close();
  for (const e of running) await e.close();
});

async function charger(mode) {
  const e = new Evsed({ config: `[http]\nauth = "${mode}"\ntrusted_networks = []\n` });
  mkdirSync(e.stateDir, { recursive: true });
  execFileSync(process.env.EVSED_BINARY, ['passwd', 'admin', '--state-dir', e.stateDir], { input: `${PASSWORD}\n` });
  running.push(e);
  return e.start();
}

for (const mode of ['writes', 'all']) {
  test(`in mode ${mode} the page works once logged in, and refuses without`, async () => {
    browser = browser || (await launch());
    const evsed = await charger(mode);
    const stranger = await lockedContext(browser);
    const p0 = await stranger.newPage();
    if (mode === 'all') {
      // Without an account the browser gets no page: a 401 (or, headless, the refused challenge).
      const first = await p0.goto(`${evsed.url}/`).catch((e) => e);
      assert.ok(first instanceof Error ? /AUTH/.test(first.message) : first.status() === 401, String(first));
    } else {
      await p0.goto(`${evsed.url}/`);
      await until('read without a login', async () => (await p0.getByRole('status', { name: 'State' }).textContent()) === 'No car');
      await p0.getByRole('button', { name: 'Solar', exact: true }).click();
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await evsed.settings()).mode, 'NORMAL', 'a change without a login is refused');
    }
    await stranger.close();

    const ctx = await lockedContext(browser, { httpCredentials: { username: 'admin', password: PASSWORD } });
    const page = await ctx.newPage();
    await page.goto(`${evsed.url}/`);
    await until('rendered', async () => (await page.getByRole('status', { name: 'State' }).textContent()) === 'No car');
    await page.getByRole('button', { name: 'Solar', exact: true }).click();
    const auth = { Authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
    await until('SOLAR', async () => (await (await fetch(`${evsed.url}/settings`, { headers: auth })).json()).mode === 'SOLAR');
    assert.deepEqual(ctx.foreign, []);
    await page.screenshot({ path: join(process.env.EVSED_SCREENSHOTS || '/tmp', `login-${mode}.png`) });
    await ctx.close();
  });
}
