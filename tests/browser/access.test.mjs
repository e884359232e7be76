// Logging in through the page: with [http] auth = "writes" and "all" and no
// trusted network, the dashboard shows its login form where it needs one, and
// works once the admin has logged in (a session cookie, changes carrying the
// login's CSRF token).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Evsed, launch, lockedContext, until, sleep } from './harness.mjs';

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

const basic = { Authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };

for (const mode of ['writes', 'all']) {
  test(`in mode ${mode} the page asks for a login and works after it`, async () => {
    browser = browser || (await launch());
    const evsed = await charger(mode);
    const mode_now = async () => (await (await fetch(`${evsed.url}/settings`, { headers: basic })).json()).mode;
    const ctx = await lockedContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${evsed.url}/`);
    const login = page.getByRole('region', { name: 'Log in' });
    const solar = page.getByRole('button', { name: 'Solar', exact: true });
    if (mode === 'all') {
      await until('the login form', () => login.isVisible());
    } else {
      await until('read without a login', async () => (await page.getByRole('status', { name: 'State' }).textContent()) === 'No car');
      await solar.click();
      await until('the login form after a refused change', () => login.isVisible());
      await sleep(300);
      assert.equal(await mode_now(), 'NORMAL', 'a change without a login is refused');
    }
    await login.getByLabel('Password').fill('not the password');
    await login.getByLabel('Name').fill('admin');
    await login.getByRole('button', { name: 'Log in now' }).click();
    await until('a wrong password is said', async () => (await page.locator('#login-reply').textContent()).includes('wrong'));
    await login.getByLabel('Name').fill('admin');
    await login.getByLabel('Password').fill(PASSWORD);
    await login.getByRole('button', { name: 'Log in now' }).click();
    await until('the form goes', async () => !(await login.isVisible()));
    await until('live', async () => (await page.getByRole('status', { name: 'State' }).textContent()) === 'No car');
    await solar.click();
    await until('SOLAR', async () => (await mode_now()) === 'SOLAR');
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === 'evsed_session');
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    await page.screenshot({ path: join(process.env.EVSED_SCREENSHOTS || '/tmp', `logged-in-${mode}.png`) });
    // An admin makes an API token on the Settings page, uses it, and revokes it there.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Token name').fill('evcc');
    await page.getByRole('button', { name: 'Create token' }).click();
    const reply = page.locator('#token-reply');
    await until('the token shown once', async () => /evsed_[\w-]{43}/.test(await reply.textContent()));
    const token = (await reply.textContent()).match(/evsed_[\w-]{43}/)[0];
    const withToken = (m) => fetch(`${evsed.url}/settings?mode=${m}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal((await withToken(1)).status, 200);
    await page.getByRole('button', { name: 'Revoke: evcc' }).click();
    await until('revoked', async () => (await withToken(2)).status === 401);
    // An account made on the page: a viewer, then removed there.
    const viewerAuth = { Authorization: `Basic ${Buffer.from('guest:guest password').toString('base64')}` };
    const guestRole = async () => {
      const r = await fetch(`${evsed.url}/whoami`, { headers: viewerAuth });
      return r.ok ? (await r.json()).role : r.status;
    };
    const users = page.getByRole('region', { name: 'Accounts' });
    await users.getByLabel('Name').fill('guest');
    await users.getByLabel('Role').selectOption('viewer');
    await users.getByLabel('New password').fill('guest password');
    await users.getByRole('button', { name: 'Save account' }).click();
    await until('the account works', async () => (await guestRole()) === 'viewer');
    await until('listed', () => page.getByRole('button', { name: 'Remove: guest' }).isVisible());
    await page.screenshot({ path: join(process.env.EVSED_SCREENSHOTS || '/tmp', `tokens-${mode}.png`), fullPage: true });
    await page.getByRole('button', { name: 'Remove: guest' }).click();
    await until('the account is gone', async () => (await guestRole()) === 401);
    // The diagnostics: the log tail, the download, the certificate line.
    await page.getByRole('link', { name: 'Diagnostics' }).click();
    await until('the log tail', async () => (await page.locator('#diag-log').textContent()).includes("account 'guest'"));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download diagnostics' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^evsed-diagnostics-\d+-\d+\.json$/);
    const bundle = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(bundle.access.auth, mode);
    assert.ok(!JSON.stringify(bundle).includes(PASSWORD), 'no password in the bundle');
    assert.equal(await page.locator('#diag-https').textContent(), 'HTTPS is off ([http] tls_listen)');
    await page.screenshot({ path: join(process.env.EVSED_SCREENSHOTS || '/tmp', `diagnostics-admin-${mode}.png`), fullPage: true });
    await page.getByRole('link', { name: 'Dashboard' }).click();
    // Logged out: the cookie no longer counts.
    await page.getByRole('button', { name: /Log out/ }).click();
    // The page posts /logout and reloads; from then on the cookie is nobody's.
    const withCookie = () => fetch(`${evsed.url}/settings?mode=1`, { method: 'POST', headers: { Cookie: `evsed_session=${session.value}` } });
    await until('logged out', async () => (await withCookie()).status === 401);
    await until('the page offers the login again', () => page.getByRole('button', { name: 'Log in', exact: true }).isVisible());
    assert.deepEqual(ctx.foreign, []);
    await ctx.close();
  });
}

test('the first visitor makes the admin with the code from the log', async () => {
  browser = browser || (await launch());
  const e = new Evsed({ config: '[http]\nauth = "writes"\ntrusted_networks = []\n' });
  running.push(e);
  const evsed = await e.start();
  await until('the code in the log', () => /setup code [2-9A-Z-]{14}/.test(evsed.log.join('')));
  const code = evsed.log.join('').match(/setup code ([2-9A-Z-]{14})/)[1];
  const ctx = await lockedContext(browser);
  const page = await ctx.newPage();
  await page.goto(`${evsed.url}/`);
  const setup = page.getByRole('region', { name: 'Create the first admin' });
  await until('the setup form', () => setup.isVisible());
  await page.screenshot({ path: join(process.env.EVSED_SCREENSHOTS || '/tmp', 'first-admin.png'), fullPage: true });
  await setup.getByLabel('Setup code').fill('WRNG-CODE-XXXX');
  await setup.getByLabel('Name').fill('owner');
  await setup.getByLabel('Password', { exact: true }).fill('owner password 1');
  await setup.getByLabel('Password again').fill('owner password 1');
  await setup.getByRole('button', { name: 'Create admin' }).click();
  await until('a wrong code is said', async () => (await page.locator('#setup-reply').textContent()).includes('wrong setup code'));
  await setup.getByLabel('Setup code').fill(code.toLowerCase());
  await setup.getByLabel('Password', { exact: true }).fill('owner password 1');
  await setup.getByLabel('Password again').fill('owner password 1');
  await setup.getByRole('button', { name: 'Create admin' }).click();
  await until('logged in as the new admin', () => page.getByRole('button', { name: 'Log out (owner)' }).isVisible());
  assert.equal(await setup.isVisible(), false);
  const owner = { Authorization: `Basic ${Buffer.from('owner:owner password 1').toString('base64')}` };
  assert.equal((await (await fetch(`${evsed.url}/whoami`, { headers: owner })).json()).role, 'admin');
  assert.deepEqual(await (await fetch(`${evsed.url}/setup`)).json(), { pending: false });
  // Changes from the page work at once, with the login's CSRF token.
  await page.getByRole('button', { name: 'Solar', exact: true }).click();
  await until('SOLAR', async () => (await (await fetch(`${evsed.url}/settings`)).json()).mode === 'SOLAR');
  // Their own password, changed on the Settings page; the page logs in again with it.
  await page.getByRole('link', { name: 'Settings' }).click();
  const mine = page.getByRole('region', { name: 'Your password' });
  await mine.getByLabel('Current password').fill('owner password 1');
  await mine.getByLabel('New password').fill('owner password 2');
  await mine.getByLabel('Password again').fill('owner password 2');
  await mine.getByRole('button', { name: 'Change password' }).click();
  const as = (pw) => fetch(`${evsed.url}/whoami`, { headers: { Authorization: `Basic ${Buffer.from(`owner:${pw}`).toString('base64')}` } });
  await until('the new password works', async () => (await as('owner password 2')).status === 200);
  assert.equal((await as('owner password 1')).status, 401);
  await until('still logged in', () => page.getByRole('button', { name: 'Log out (owner)' }).isVisible());
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('button', { name: 'Normal', exact: true }).click();
  await until('a change with the new login', async () => (await (await fetch(`${evsed.url}/settings`)).json()).mode === 'NORMAL');
  assert.deepEqual(ctx.foreign, []);
  await ctx.close();
});
