// The dashboard as a person uses it, in Debian's chromium: live state pushed
// over /events, the mode buttons, a refused override, a delayed start, the
// history with its CSV, a daemon restarted under the open page, languages,
// dark mode and a phone-sized screen. Screenshots of every page go to
// $EVSED_SCREENSHOTS (build/screenshots from make test).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Evsed, launch, lockedContext, until, sleep } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const www = join(here, '..', '..', 'www');
const shots = process.env.EVSED_SCREENSHOTS || join(here, '..', '..', 'build', 'screenshots');
mkdirSync(shots, { recursive: true });
const PAGES = ['dashboard', 'schedule', 'history', 'settings', 'diagnostics'];
const CONFIG = '[evse]\ncurrent_max = 16\n[ev_meter]\ntype = "Sim"\n[sessions]\nupdate_interval = 5\n';

let evsed;
let browser;
let context;
let page;

before(async () => {
  evsed = await new Evsed({ config: CONFIG }).start();
  browser = await launch();
  context = await lockedContext(browser, { viewport: { width: 1200, height: 900 }, colorScheme: 'light' });
  page = await context.newPage();
  page.on('pageerror', (e) => { page.errors = [...(page.errors || []), String(e)]; });
  await page.goto(`${evsed.url}/`);
  await until('the first snapshot', async () => (await page.getByRole('status', { name: 'State' }).textContent()) === 'No car');
});

after(async () => {
  await browser?.close();
  await evsed?.close();
});

const state = () => page.getByRole('status', { name: 'State' });

test('the page loads from the charger alone', async () => {
  for (const p of PAGES) {
    await page.goto(`${evsed.url}/#/${p === 'dashboard' ? '' : p}`);
    await page.waitForLoadState('networkidle').catch(() => {});
  }
  await page.goto(`${evsed.url}/#/`);
  assert.deepEqual(context.foreign, [], 'requests that left 127.0.0.1');
  assert.deepEqual(page.errors || [], [], 'script errors');
});

test('plugging in shows Connected, then Charging, as the daemon changes', async () => {
  await evsed.simulate('ev=B');
  await until('Connected', async () => (await state().textContent()) === 'Connected', 5000);
  assert.equal(await page.getByRole('status', { name: 'Car' }).textContent(), 'connected');
  await evsed.simulate('ev=C');
  await until('Charging', async () => (await state().textContent()) === 'Charging', 5000);
  await until('the offered current', async () => /\d+\.\d A/.test(await page.getByRole('status', { name: 'Current offered' }).textContent()));
  assert.match(await page.getByRole('status', { name: 'Limited by' }).textContent(), /\w/);
});

test('Solar changes the mode and the pressed button', async () => {
  await page.getByRole('button', { name: 'Solar', exact: true }).click();
  await until('mode SOLAR in GET /settings', async () => (await evsed.settings()).mode === 'SOLAR');
  await until('Solar pressed', async () => (await page.getByRole('button', { name: 'Solar', exact: true }).getAttribute('aria-pressed')) === 'true');
  assert.equal(await page.getByRole('button', { name: 'Normal', exact: true }).getAttribute('aria-pressed'), 'false');
  await page.getByRole('button', { name: 'Normal', exact: true }).click();
  await until('mode NORMAL', async () => (await evsed.settings()).mode === 'NORMAL');
});

test('an out-of-range override current shows the charger\'s reason and changes nothing', async () => {
  const before = (await evsed.settings()).settings.override_current;
  await page.getByLabel('Override current', { exact: true }).fill('99');
  await page.getByRole('button', { name: 'Set', exact: true }).click();
  const reply = page.locator('#override-reply');
  await until('the reason', async () => (await reply.textContent()).includes('Value not allowed!'));
  assert.match(await page.getByText(/^0 or 6–16 A$/).textContent(), /6–16/);
  assert.equal((await evsed.settings()).settings.override_current, before);
});

test('a delayed start set on Schedule appears in GET /settings', async () => {
  await page.getByRole('link', { name: 'Schedule' }).click();
  const tomorrow = new Date(Date.now() + 86400000);
  const day = tomorrow.toISOString().slice(0, 10);
  await page.getByLabel('Start at').fill(`${day}T07:30`);
  await page.getByRole('button', { name: 'Set schedule' }).click();
  const expected = Date.parse(`${day}T07:30:00Z`) / 1000;  // the page and evsed both run in UTC here
  await until('starttime', async () => (await evsed.settings()).settings.starttime === expected);
  await until('shown as in force', async () => !(await page.locator('#sched-now').textContent()).includes('none'));
  await page.screenshot({ path: join(shots, 'schedule-light.png'), fullPage: true });
  await page.getByRole('button', { name: 'Clear schedule' }).click();
  await until('cleared', async () => (await evsed.settings()).settings.starttime === 0);
});

test('History lists a finished session and its CSV downloads', async () => {
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await until('the car draws', async () => (await evsed.simulate('')).ev_draw.L1 > 0, 15000);
  await page.screenshot({ path: join(shots, 'dashboard-light.png'), fullPage: true });
  await sleep(3000);
  await evsed.simulate('ev=A');
  await until('No car', async () => (await state().textContent()) === 'No car');
  await page.getByRole('link', { name: 'History' }).click();
  const sessions = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Stopped by' }) });
  await until('a finished session', async () => (await sessions.getByRole('row').count()) >= 2
    && (await sessions.getByRole('cell', { name: 'unplugged', exact: true }).count()) >= 1, 8000)
    .catch(async (e) => { throw new Error(`${e.message}\n${await page.locator('main').innerText()}`); });
  for (const [name, delimiter] of [['Download CSV', ','], ['Download CSV (; and decimal comma)', ';']]) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name, exact: true }).click()]);
    const text = readFileSync(await download.path(), 'utf8');
    const lines = text.trim().split('\r\n');
    assert.ok(lines.length >= 2, text);
    assert.equal(lines[0].split(delimiter)[0], 'id');
    assert.ok(lines[0].split(delimiter).includes('energy_kwh'), lines[0]);
    assert.equal(download.suggestedFilename(), 'evsed-sessions.csv');
  }
  await page.screenshot({ path: join(shots, 'history-light.png'), fullPage: true });
});

test('every page in light, dark and on a 360 px phone, without horizontal scrolling', async () => {
  for (const [theme, viewport] of [['light', { width: 1200, height: 900 }], ['dark', { width: 1200, height: 900 }],
    ['mobile', { width: 360, height: 740 }], ['mobile-dark', { width: 360, height: 740 }]]) {
    const dark = theme.includes('dark');
    const ctx = await lockedContext(browser, { viewport, colorScheme: dark ? 'dark' : 'light', isMobile: viewport.width < 400 });
    const p = await ctx.newPage();
    await p.goto(`${evsed.url}/`);
    await until('rendered', async () => (await p.getByRole('status', { name: 'State' }).textContent()) !== '…');
    for (const name of PAGES) {
      await p.goto(`${evsed.url}/#/${name}`);
      await sleep(300);
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${name} (${theme}) scrolls sideways by ${overflow} px`);
      if (dark) {
        const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.notEqual(bg, 'rgb(246, 247, 249)', `${name}: the dark theme is not applied`);
      }
      if (!(theme === 'light' && ['schedule', 'history', 'dashboard'].includes(name))) {
        await p.screenshot({ path: join(shots, `${name}-${theme}.png`), fullPage: true });
      }
    }
    assert.deepEqual(ctx.foreign, []);
    await ctx.close();
  }
});

test('the theme toggle switches dark mode', async () => {
  const toggle = page.getByRole('button', { name: 'Dark mode' });
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await toggle.click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
});

function keys(o, prefix = '') {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`])).sort();
}

test('Dutch and German have every key and render', async () => {
  const en = keys(JSON.parse(readFileSync(join(www, 'i18n', 'en.json'), 'utf8')));
  for (const lang of ['nl', 'de']) {
    const other = keys(JSON.parse(readFileSync(join(www, 'i18n', `${lang}.json`), 'utf8')));
    assert.deepEqual(other, en, `${lang}.json has other keys than en.json`);
  }
  // Every key the page asks for exists in English.
  const used = new Set();
  for (const file of ['index.html', 'app.js']) {
    const text = readFileSync(join(www, file), 'utf8');
    for (const m of text.matchAll(/data-i18n(?:-aria)?="([\w.]+)"|\bt\('([\w.]+)'/g)) used.add(m[1] || m[2]);
  }
  for (const k of used) assert.ok(en.includes(k), `${k} is used but not in en.json`);

  for (const [lang, normal, nav] of [['nl', 'Normaal', 'Geschiedenis'], ['de', 'Normal', 'Verlauf']]) {
    await page.getByRole('link', { name: /Dashboard|Overzicht|Übersicht/ }).click();
    await page.getByLabel(/Language|Taal|Sprache/).selectOption(lang);
    await until(`${lang} rendered`, async () => (await page.locator('html').getAttribute('lang')) === lang);
    assert.equal(await page.getByRole('button', { name: normal, exact: true }).count(), 1);
    assert.equal(await page.getByRole('link', { name: nav }).count(), 1);
    const raw = await page.evaluate(() => [...document.querySelectorAll('[data-i18n]')]
      .filter((e) => e.textContent === e.dataset.i18n).map((e) => e.dataset.i18n));
    assert.deepEqual(raw, [], `${lang}: keys shown as they are`);
    await page.screenshot({ path: join(shots, `dashboard-${lang}.png`), fullPage: true });
  }
  await page.getByLabel(/Language|Taal|Sprache/).selectOption('en');
});

test('the daemon restarted under the open page: the page recovers by itself', async () => {
  await page.getByRole('link', { name: 'Dashboard' }).click();
  const banner = page.getByRole('alert').filter({ hasText: 'cannot be reached' });
  assert.equal(await banner.isVisible(), false);
  const { port, stateDir } = evsed;
  await evsed.stop('SIGTERM');
  await until('the unreachable banner', () => banner.isVisible(), 5000);
  const again = new Evsed({ config: CONFIG, port, stateDir });
  await again.start();
  evsed.proc = again.proc;
  evsed.exited = again.exited;
  evsed.log = again.log;
  await evsed.simulate('ev=B');
  await until('the banner goes', async () => !(await banner.isVisible()), 10000);
  await until('live again', async () => (await state().textContent()) === 'Connected', 5000);
  assert.deepEqual(context.foreign, []);
});
