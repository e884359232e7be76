// The evsed dashboard: one page, five views, everything over the public REST
// API, kept live by GET /events (Server-Sent Events).
import { t, use, pick, language, LANGUAGES } from './i18n.js';
import { bars, lines } from './charts.js';

const $ = (sel) => document.querySelector(sel);
const PAGES = ['dashboard', 'schedule', 'history', 'settings', 'diagnostics'];
const NOMINAL_VOLTS = 230; // SmartEVSE's power estimate
const LIVE_WINDOW_S = 3600;

let S = null;            // the last GET /settings snapshot
let page = 'dashboard';
let session = null;      // GET /sessions/current, or null
let sessionAt = 0;       // when it was fetched (ms)
let sessionState = -1;   // state_id it was fetched for
const live = [];         // [{t, mains, ev}] for the last hour's chart
let timersAt = 0;
let csrf = '';           // this login's token: sent with every change
let needLogin = false;   // mode "all" and not logged in: no stream until then
let account = '';        // the name of the account logged in on this page, else empty

// --- REST --------------------------------------------------------------------

// The page's own requests: no browser login prompt (the page has its form), and the login's CSRF token.
function headers() {
  const h = { 'X-Requested-With': 'evsed' };
  if (csrf) h['X-CSRF-Token'] = csrf;
  return h;
}

async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store', headers: headers() });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

// POST with query parameters, as SmartEVSE's clients do (or, for passwords, a
// form body: a URL is kept in histories and logs); the reply's text kept.
async function post(path, params, { method = 'POST', inBody = false } = {}) {
  const query = new URLSearchParams(params).toString();
  const init = { method, headers: headers() };
  if (inBody) init.body = new URLSearchParams(params);
  try {
    const r = await fetch(query && !inBody ? `${path}?${query}` : path, init);
    if (r.status === 401) showLogin(true);
    const text = await r.text();
    let body = text;
    try { body = JSON.parse(text); } catch { /* plain text */ }
    return { ok: r.ok, status: r.status, body };
  } catch (e) {
    return { ok: false, status: 0, body: t('reply.unreachable') };
  }
}

// The charger's own reason when it refused something, else null.
function refusal(reply, keys) {
  if (!reply.ok) {
    if (typeof reply.body === 'string') return reply.body.trim() || `HTTP ${reply.status}`;
    return reply.body.error || JSON.stringify(reply.body);
  }
  const reasons = [];
  for (const k of keys) {
    const v = reply.body[k];
    if (typeof v === 'string' && (v === 'Value not allowed!' || Number.isNaN(Number(v)))) reasons.push(v);
  }
  return reasons.length ? reasons.join('; ') : null;
}

function show(out, reply, keys, okText = t('reply.saved')) {
  const why = refusal(reply, keys);
  out.textContent = why ? `${t('reply.refused')}: ${why}` : okText;
  out.classList.toggle('bad', !!why);
  out.classList.toggle('good', !why);
  return !why;
}

// --- formatting --------------------------------------------------------------

const amps = (dA) => `${(dA / 10).toFixed(1)} A`;
const kwh = (wh) => `${(wh / 1000).toFixed(3)} kWh`;
function duration(s) {
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}`;
}
const localTime = (epoch) => new Date(epoch * 1000).toLocaleString(language());
function watts(w) { return w >= 1000 ? `${(w / 1000).toFixed(2)} kW` : `${Math.round(w)} W`; }
// <input type=datetime-local> value for a Unix time, in local time.
function inputTime(epoch) {
  const d = new Date(epoch * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

const STATE_CODES = { 0: 'A', 1: 'B', 2: 'C', 8: 'activate', 9: 'B1', 10: 'C1' };
function stateKey(s) {
  if (s.evse.error_id && s.evse.error_id !== 0 && s.evse.state_id !== 2) return 'error';
  return STATE_CODES[s.evse.state_id] || 'other';
}
function stateColour(key) {
  return { A: 'A', B: 'B', B1: 'B', activate: 'B', C: 'C', C1: 'C', error: 'E' }[key] || 'A';
}

function evPower(s) {
  const m = s.ev_meter;
  if (s.evsed.meters.ev.configured && s.evsed.meters.ev.age_s !== null) return { w: m.import_active_power, estimated: false };
  if (!s.evsed.contactor1) return { w: 0, estimated: false };
  return { w: (s.evsed.offered_current / 10) * s.evsed.phases * NOMINAL_VOLTS, estimated: true };
}

// --- dashboard ---------------------------------------------------------------

function meterBar(label, dA, limitA) {
  const row = document.createElement('div');
  row.className = 'bar';
  const name = document.createElement('span');
  name.textContent = label;
  const m = document.createElement('meter');
  m.min = 0;
  m.max = Math.max(1, limitA);
  m.high = limitA * 0.9;
  m.value = Math.max(0, dA / 10);
  m.setAttribute('aria-label', `${label} ${amps(dA)} / ${limitA} A`);
  const v = document.createElement('output');
  v.textContent = `${(dA / 10).toFixed(1)} / ${limitA} A`;
  row.append(name, m, v);
  return row;
}

function renderTimers() {
  if (!S) return;
  const list = $('#timers');
  const passed = (Date.now() - timersAt) / 1000;
  list.replaceChildren(...S.evsed.timers.map((tm) => {
    const li = document.createElement('li');
    li.textContent = `${t(`timer.${tm.name}`)}: ${duration(tm.seconds_left - passed)}`;
    return li;
  }));
}

function renderSessionFigures() {
  const connected = S && S.car_connected;
  if (!connected || !session) {
    $('#energy').textContent = '–';
    $('#elapsed').textContent = '–';
    return;
  }
  const since = (Date.now() - sessionAt) / 1000;
  $('#energy').textContent = `${kwh(session.energy_wh)}${session.energy_source === 'estimated' ? ` (${t('dash.estimated')})` : ''}`;
  $('#elapsed').textContent = duration(session.connected_s + since);
}

async function refreshSession(force) {
  if (!S) return;
  const stale = Date.now() - sessionAt > 10000;
  if (!force && !stale && sessionState === S.evse.state_id) return;
  sessionState = S.evse.state_id;
  sessionAt = Date.now();
  try {
    const r = await fetch('/sessions/current', { cache: 'no-store', headers: headers() });
    session = r.ok ? await r.json() : null;
  } catch { session = null; }
  sessionAt = Date.now();
  renderSessionFigures();
}

function renderDashboard(s) {
  const key = stateKey(s);
  const state = $('#state');
  state.textContent = t(`state.${key}`);
  state.dataset.state = stateColour(key);
  $('#car').textContent = t(s.car_connected ? 'dash.connected' : 'dash.not_connected');
  $('#offered').textContent = amps(s.evsed.offered_current);
  $('#limited').textContent = t(`limit.${s.evsed.limited_by}`);
  timersAt = Date.now();
  renderTimers();
  const p = evPower(s);
  $('#power').textContent = `${watts(p.w)}${p.estimated ? ` (${t('dash.estimated')})` : ''}`;
  for (const b of document.querySelectorAll('[data-mode]')) {
    b.setAttribute('aria-pressed', String(Number(b.dataset.mode) === s.mode_id));
  }
  const min = s.settings.current_min, max = s.settings.current_max;
  $('#override-range').textContent = `0 ${t('dash.or')} ${min}–${max} A`;
  // No min/max on the input: the charger decides, and says why it refuses.
  const input = $('#override');
  if (document.activeElement !== input) input.placeholder = (s.settings.override_current / 10).toString();
  const pc = s.phase_currents;
  $('#mains-bars').replaceChildren(...['L1', 'L2', 'L3'].map((l) => meterBar(l, pc[l], s.settings.current_main)));
  const ec = s.ev_meter.currents;
  $('#ev-bars').replaceChildren(...['L1', 'L2', 'L3'].map((l) => meterBar(l, ec[l], s.settings.current_max)));

  const banner = $('#error');
  if (s.evse.error_id && s.evse.error !== 'None') {
    $('#error-name').textContent = s.evse.error;
    const flag = s.evsed.errors[0];
    $('#error-help').textContent = flag ? t(`error.${flag}`) : '';
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
  refreshSession(false);
  renderSessionFigures();
}

// --- schedule ----------------------------------------------------------------

function renderSchedule(s) {
  const st = s.settings;
  const parts = [];
  if (st.starttime) parts.push(`${t('sched.start')} ${localTime(st.starttime)}`);
  if (st.stoptime) parts.push(`${t('sched.stop')} ${localTime(st.stoptime)}`);
  if (st.repeat) parts.push(t('sched.repeat'));
  $('#sched-now').textContent = parts.length ? parts.join(', ') : t('sched.none');
}

function intervalRow(start = 0, power = 0) {
  const tr = document.createElement('tr');
  const time = document.createElement('input');
  time.type = 'time';
  time.value = `${String(Math.floor(start / 60)).padStart(2, '0')}:${String(start % 60).padStart(2, '0')}`;
  time.setAttribute('aria-label', t('sched.from'));
  const w = document.createElement('input');
  w.type = 'number';
  w.min = 0;
  w.value = power;
  w.setAttribute('aria-label', t('sched.limit_w'));
  const rm = document.createElement('button');
  rm.type = 'button';
  rm.textContent = '×';
  rm.setAttribute('aria-label', t('sched.remove'));
  rm.addEventListener('click', () => tr.remove());
  for (const c of [time, w, rm]) {
    const td = document.createElement('td');
    td.append(c);
    tr.append(td);
  }
  return tr;
}

function fillScheduleForms(s) {
  const st = s.settings;
  if (st.starttime) $('#starttime').value = inputTime(st.starttime);
  if (st.stoptime) $('#stoptime').value = inputTime(st.stoptime);
  $('#repeat').checked = !!st.repeat;
  $('#capacity-mode').value = String(st.capacity_mode);
  $('#interval-rows').replaceChildren(...st.intervals.map((i) => intervalRow(i.start, i.power)));
}

// --- settings ----------------------------------------------------------------

// The run-time settings on this page: REST parameter, where GET /settings shows it, the reply key.
const FIELDS = [
  { param: 'current_min', label: 'set.current_min', unit: 'A', get: (s) => s.settings.current_min, allowed: '6–16' },
  { param: 'current_max_sum_mains', label: 'set.max_sum_mains', unit: 'A', get: (s) => s.settings.current_max_sum_mains, allowed: '0, 10–600' },
  { param: 'max_sum_mains_timer', reply: 'max_sum_mains_time', label: 'set.max_sum_mains_time', unit: 'min', get: (s) => s.settings.max_sum_mains_time, allowed: '0–60' },
  { param: 'solar_start_current', label: 'set.solar_start', unit: 'A', get: (s) => s.settings.solar_start_current, allowed: '0–48' },
  { param: 'stop_timer', label: 'set.solar_stop', unit: 'min', get: (s) => s.settings.solar_stop_time, allowed: '0–60' },
  { param: 'solar_max_import', label: 'set.solar_import', unit: 'A', get: (s) => s.settings.solar_max_import, allowed: '0–48' },
  { param: 'enable_C2', label: 'set.enable_c2', choices: ['Not present', 'Always Off', 'Solar Off', 'Always On', 'Auto'],
    get: (s) => s.settings.enable_C2 },
];

function buildSettings() {
  const box = $('#settings-fields');
  box.replaceChildren(...FIELDS.map((f) => {
    const card = document.createElement('form');
    card.className = 'card field';
    const id = `f-${f.param}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = t(f.label);
    const row = document.createElement('div');
    row.className = 'row';
    let input;
    if (f.choices) {
      input = document.createElement('select');
      f.choices.forEach((c, i) => input.append(new Option(c, String(i))));
    } else {
      input = document.createElement('input');
      input.type = 'number';
      input.step = '1';
    }
    input.id = id;
    const save = document.createElement('button');
    save.type = 'submit';
    save.textContent = t('set.save');
    save.setAttribute('aria-label', `${t('set.save')}: ${t(f.label)}`);
    row.append(input);
    if (f.unit) row.append(Object.assign(document.createElement('span'), { textContent: f.unit }));
    row.append(save);
    const hint = document.createElement('p');
    hint.className = 'hint';
    if (f.allowed) hint.textContent = `${t('dash.allowed')}: ${f.allowed} ${f.unit || ''}`;
    const out = document.createElement('output');
    out.className = 'reply';
    out.setAttribute('role', 'status');
    out.id = `${id}-reply`;
    card.append(label, row, hint, out);
    card.addEventListener('submit', async (e) => {
      e.preventDefault();
      const reply = await post('/settings', { [f.param]: input.value });
      show(out, reply, [f.reply || f.param]);
    });
    return card;
  }));
}

function fillSettings(s) {
  for (const f of FIELDS) {
    const input = document.getElementById(`f-${f.param}`);
    if (!input || document.activeElement === input) continue;
    const v = f.get(s);
    input.value = f.choices ? String(Math.max(0, f.choices.indexOf(v))) : v;
  }
  const m = s.mqtt;
  for (const [id, v] of [['#mqtt-host', m.host], ['#mqtt-port', m.port], ['#mqtt-prefix', m.topic_prefix], ['#mqtt-user', m.username]]) {
    const input = $(id);
    if (document.activeElement !== input && !input.dataset.edited) input.value = v;
  }
  $('#mqtt-tls').checked = !!m.tls;
  $('#mqtt-status').textContent = m.status;
  $('#mqtt-password').placeholder = m.password_set ? t('set.password_set') : '';
}

// --- API tokens and accounts (admins) ----------------------------------------

// An admin's list (GET path, answering { key: [...] }), or null: the card shows only for admins.
async function adminList(path, key, card) {
  try {
    const r = await fetch(path, { cache: 'no-store', headers: headers() });
    card.hidden = !r.ok;
    return r.ok ? (await r.json())[key] : null;
  } catch { return null; }
}

// A table of `items` with one button per row that DELETEs what the row names.
function removableTable(el, head, items, cells, { label, name, target, reply, done, reload }) {
  table(el, [...head, ''], items.map((x) => [...cells(x), '']));
  items.forEach((x, i) => {
    const b = Object.assign(document.createElement('button'), { type: 'button', textContent: label });
    b.setAttribute('aria-label', `${label}: ${name(x)}`);
    b.addEventListener('click', async () => {
      show(reply, await post(target(x), {}, { method: 'DELETE' }), [], done);
      reload();
    });
    el.tBodies[0].rows[i].lastElementChild.append(b);
  });
}

async function loadTokens() {
  const list = await adminList('/tokens', 'tokens', $('#tokens-card'));
  if (!list) return;
  removableTable($('#tokens'), [t('tokens.name'), t('tokens.role'), t('tokens.created')], list,
    (tok) => [tok.name, t(`tokens.${tok.role}`), localTime(tok.created)],
    { label: t('tokens.revoke'), name: (tok) => tok.name, target: (tok) => `/tokens/${encodeURIComponent(tok.id)}`,
      reply: $('#token-reply'), done: t('tokens.revoked'), reload: loadTokens });
}

async function loadUsers() {
  const list = await adminList('/users', 'users', $('#users-card'));
  if (!list) return;
  removableTable($('#users'), [t('users.name'), t('users.role')], list, (u) => [u.name, t(`tokens.${u.role}`)],
    { label: t('users.remove'), name: (u) => u.name, target: (u) => `/users/${encodeURIComponent(u.name)}`,
      reply: $('#user-reply'), done: t('users.removed'), reload: loadUsers });
}

// --- history -----------------------------------------------------------------

function table(el, head, rows) {
  const thead = document.createElement('thead');
  const tr = document.createElement('tr');
  for (const h of head) tr.append(Object.assign(document.createElement('th'), { scope: 'col', textContent: h }));
  thead.append(tr);
  const tbody = document.createElement('tbody');
  for (const r of rows) {
    const row = document.createElement('tr');
    for (const c of r) row.append(Object.assign(document.createElement('td'), { textContent: c }));
    tbody.append(row);
  }
  el.replaceChildren(thead, tbody);
}

async function loadHistory() {
  try {
    const [list, months, years, power] = await Promise.all([
      getJson('/sessions?limit=200'), getJson('/sessions/summary?by=month'), getJson('/sessions/summary?by=year'),
      getJson('/power_day'),
    ]);
    const sessions = list.sessions;
    table($('#sessions'), [t('hist.start'), t('hist.duration'), t('hist.energy'), t('hist.source'), t('hist.reason'), t('hist.note')],
      sessions.map((x) => [localTime(x.start_epoch), duration(x.connected_s), kwh(x.energy_wh),
        t(`source.${x.energy_source}`), x.stop_reason ? t(`reason.${x.stop_reason}`) : t('hist.running'), x.note]));
    const summaryRows = (d, k) => d.periods.slice().reverse().map((p) => [p[k], String(p.sessions), kwh(p.energy_wh),
      p.solar_wh === null ? '–' : kwh(p.solar_wh)]);
    const head = (k) => [t(k), t('hist.count'), t('hist.energy'), t('hist.solar')];
    table($('#months'), head('hist.month'), summaryRows(months, 'month'));
    table($('#years'), head('hist.year'), summaryRows(years, 'year'));
    // Energy per day over the last 30 days, by the day each session started.
    const days = [];
    const today = new Date();
    today.setHours(0, 0, 0, 0);
    for (let i = 29; i >= 0; i--) {
      const d = new Date(today);
      d.setDate(d.getDate() - i);
      days.push({ key: d.toDateString(), label: `${d.getDate()}.${d.getMonth() + 1}`, value: 0 });
    }
    for (const x of sessions) {
      const d = days.find((day) => day.key === new Date(x.start_epoch * 1000).toDateString());
      if (d) d.value += x.energy_wh / 1000;
    }
    bars($('#chart-days'), days.map((d) => ({ label: d.label, value: Math.round(d.value * 1000) / 1000 })), { unit: ' kWh', labelEvery: 5 });
    bars($('#chart-power-day'), power.power_day.map((slot) => ({ label: slot.time, value: slot.power })),
      { unit: ' W', cls: 'm', labelEvery: 12 });
  } catch (e) {
    $('#sessions').replaceChildren(Object.assign(document.createElement('caption'), { textContent: `${t('hist.unavailable')} (${e.message})` }));
  }
  renderLive();
}

function renderLive() {
  const now = Date.now() / 1000;
  // The last hour, or since the page opened when that is shorter.
  const start = Math.max(now - LIVE_WINDOW_S, (live[0] ? live[0].t : now) - 60);
  lines($('#chart-live'), [
    { cls: 'lm', points: live.map((p) => [p.t, p.mains]) },
    { cls: 'le', points: live.map((p) => [p.t, p.ev]) },
  ], start, now, { unit: ' A' });
}

function sample(s) {
  const now = Date.now() / 1000;
  const pc = s.phase_currents;
  const ev = s.ev_meter.currents;
  const last = live[live.length - 1];
  if (last && now - last.t < 5) return;  // one point every 5 s is plenty for an hour
  live.push({ t: now, mains: Math.max(pc.L1, pc.L2, pc.L3) / 10, ev: Math.max(ev.L1, ev.L2, ev.L3) / 10 });
  while (live.length && live[0].t < now - LIVE_WINDOW_S) live.shift();
}

// --- diagnostics -------------------------------------------------------------

function renderDiagnostics(s) {
  $('#diag-version').textContent = s.version;
  $('#diag-serial').textContent = String(s.serialnr);
  $('#diag-lag').textContent = `${s.evsed.loop.pilot_lag_max_ms} ms`;
  table($('#diag-meters'), [t('diag.meter'), t('diag.type'), t('diag.age')],
    Object.entries(s.evsed.meters).map(([name, m]) => [t(`meter.${name}`), m.type,
      m.age_s === null ? '–' : `${m.age_s} s`]));
  $('#raw').textContent = JSON.stringify(s, null, 2);
}

// The bundle (admins only) gives the log tail; the certificate's fingerprint is for everyone.
async function loadSupport() {
  try {
    const h = await getJson('/https');
    $('#diag-https').textContent = h.enabled ? `${h.fingerprint_sha256} (${h.listen})` : t('diag.https_off');
  } catch { /* shown again on the next visit */ }
  const card = $('#bundle-card');
  try {
    const r = await fetch('/diagnostics', { cache: 'no-store', headers: headers() });
    card.hidden = !r.ok;
    if (!r.ok) return;
    const bundle = await r.json();
    $('#diag-log').textContent = bundle.log.slice(-100).join('\n');
  } catch { card.hidden = true; }
}

async function downloadBundle() {
  const r = await fetch('/diagnostics', { cache: 'no-store', headers: headers() });
  if (!r.ok) return;
  const name = (r.headers.get('Content-Disposition') || '').match(/filename="([^"]+)"/);
  const a = Object.assign(document.createElement('a'), {
    href: URL.createObjectURL(await r.blob()), download: name ? name[1] : 'evsed-diagnostics.json' });
  document.body.append(a);
  a.click();
  a.remove();
}

async function loadUptime() {
  try {
    const text = await (await fetch('/metrics', { cache: 'no-store', headers: headers() })).text();
    const m = text.match(/^evsed_start_time_seconds (\d+(?:\.\d+)?)/m);
    if (m) $('#diag-uptime').textContent = duration(Date.now() / 1000 - Number(m[1]));
  } catch { /* shown again on the next visit */ }
}

// --- the page ----------------------------------------------------------------

function render(s) {
  const first = !S;
  S = s;
  sample(s);
  renderDashboard(s);
  renderSchedule(s);
  if (first) fillScheduleForms(s);
  fillSettings(s);
  if (page === 'diagnostics') renderDiagnostics(s);
  if (page === 'history') renderLive();
}

function route() {
  const name = (location.hash.replace(/^#\/?/, '') || 'dashboard').split('?')[0];
  page = PAGES.includes(name) ? name : 'dashboard';
  for (const p of PAGES) $(`#page-${p}`).hidden = p !== page;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `evsed · ${t(`nav.${page}`)}`;
  if (page === 'history') loadHistory();
  if (page === 'diagnostics') {
    loadUptime();
    loadSupport();
    if (S) renderDiagnostics(S);
  }
  if (page === 'schedule' && S) fillScheduleForms(S);
  if (page === 'settings') {
    loadTokens();
    loadUsers();
  }
}

function online(up) {
  $('#offline').hidden = up || needLogin;
}

// --- login ---------------------------------------------------------------------

function showLogin(show) {
  $('#login').hidden = !show;
  if (show) $('#login-user').focus();
}

// Who the charger takes this page for; a 401 means mode "all" without a login.
async function whoami() {
  try {
    const r = await fetch('/whoami', { cache: 'no-store', headers: headers() });
    if (r.status === 401) {
      needLogin = true;
      showLogin(true);
      return null;
    }
    const me = await r.json();
    if (me.csrf) csrf = me.csrf;
    needLogin = false;
    const loggedIn = !!me.csrf;
    account = loggedIn ? me.who : '';
    $('#password-card').hidden = !loggedIn;
    $('#logout').hidden = !loggedIn;
    $('#login-open').hidden = loggedIn || me.role === 'admin';
    if (loggedIn) $('#logout').textContent = `${t('login.logout')} (${me.who})`;
    return me;
  } catch { return null; }
}

async function logIn(e) {
  e.preventDefault();
  const password = $('#login-password').value;
  $('#login-password').value = '';
  await logInAs($('#login-user').value, password);
}

async function logInAs(user, password) {
  const body = new URLSearchParams({ user, password });
  let reply;
  try {
    const r = await fetch('/login', { method: 'POST', body, headers: { 'X-Requested-With': 'evsed' } });
    reply = { ok: r.ok, status: r.status, body: await r.json() };
  } catch {
    reply = { ok: false, status: 0, body: { error: t('reply.unreachable') } };
  }
  if (!reply.ok) {
    $('#login-reply').textContent = reply.body.error || `HTTP ${reply.status}`;
    $('#login-reply').classList.add('bad');
    return;
  }
  csrf = reply.body.csrf;
  $('#login-reply').textContent = '';
  showLogin(false);
  await whoami();
  connect();
}

// No admin yet: the first visitor makes one with the code from the charger's log.
async function offerSetup() {
  try {
    const pending = (await getJson('/setup')).pending;
    $('#setup').hidden = !pending;
    if (pending) {
      showLogin(false);
      $('#setup-code').focus();
    }
  } catch { /* no answer: the login form stays as it is */ }
}

async function setUp(e) {
  e.preventDefault();
  const out = $('#setup-reply');
  const user = $('#setup-user').value;
  const password = $('#setup-password').value;
  if (password !== $('#setup-again').value) {
    out.textContent = t('setup.mismatch');
    out.classList.add('bad');
    return;
  }
  const reply = await post('/setup', { code: $('#setup-code').value.trim(), user, password }, { inBody: true });
  $('#setup-password').value = '';
  $('#setup-again').value = '';
  if (!show(out, reply, [])) return;
  $('#setup').hidden = true;
  await logInAs(user, password);
}

let events = null;
function connect() {
  if (events) events.close();
  events = new EventSource('/events');
  events.addEventListener('settings', (e) => {
    online(true);
    render(JSON.parse(e.data));
  });
  events.addEventListener('session', () => {
    refreshSession(true);
    if (page === 'history') loadHistory();
  });
  events.onerror = async () => {
    online(false);
    // The browser retries by itself unless the stream was refused outright:
    // then either the charger is away, or it wants a login first.
    if (events.readyState === EventSource.CLOSED) {
      const me = await whoami();
      if (!me && needLogin) return;  // connect() again after the login
      setTimeout(connect, 2000);
    }
  };
}

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  const dark = theme ? theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  $('#theme').setAttribute('aria-pressed', String(dark));
}

function wire() {
  for (const b of document.querySelectorAll('[data-mode]')) {
    b.addEventListener('click', async () => {
      const reply = await post('/settings', { mode: b.dataset.mode });
      show($('#mode-reply'), reply, ['mode'], '');
    });
  }
  $('#override-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const a = Number(String($('#override').value).replace(',', '.'));
    const reply = await post('/settings', { override_current: Number.isFinite(a) ? Math.round(a * 10) : $('#override').value });
    show($('#override-reply'), reply, ['override_current']);
  });
  $('#schedule-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const params = { mode: S ? (S.mode_id === 0 || S.mode_id === 4 ? 1 : S.mode_id) : 1, starttime: $('#starttime').value };
    if ($('#stoptime').value) params.stoptime = $('#stoptime').value;
    params.repeat = $('#repeat').checked ? 1 : 0;
    show($('#schedule-reply'), await post('/settings', params), ['mode', 'starttime', 'stoptime']);
  });
  $('#schedule-clear').addEventListener('click', async () => {
    const mode = S ? (S.mode_id === 0 || S.mode_id === 4 ? 1 : S.mode_id) : 1;
    show($('#schedule-reply'), await post('/settings', { mode }), ['mode'], t('sched.cleared'));
  });
  $('#interval-add').addEventListener('click', () => $('#interval-rows').append(intervalRow()));
  $('#capacity-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const intervals = [...$('#interval-rows').rows].map((tr) => {
      const [time, power] = tr.querySelectorAll('input');
      const [h, m] = time.value.split(':').map(Number);
      return { start: h * 60 + m, power: Number(power.value) };
    });
    const reply = await post('/settings', { capacity_mode: $('#capacity-mode').value, intervals: JSON.stringify(intervals) });
    show($('#capacity-reply'), reply, ['capacity_mode', 'intervals']);
  });
  for (const id of ['#mqtt-host', '#mqtt-port', '#mqtt-prefix', '#mqtt-user']) {
    $(id).addEventListener('input', () => { $(id).dataset.edited = '1'; });
  }
  $('#mqtt-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const params = { mqtt_update: 1, mqtt_host: $('#mqtt-host').value, mqtt_port: $('#mqtt-port').value,
      mqtt_topic_prefix: $('#mqtt-prefix').value, mqtt_username: $('#mqtt-user').value, mqtt_tls: $('#mqtt-tls').checked ? 1 : 0 };
    if ($('#mqtt-password').value) params.mqtt_password = $('#mqtt-password').value;
    const reply = await post('/settings', params);
    $('#mqtt-password').value = '';
    if (show($('#mqtt-reply'), reply, ['mqtt_update'])) {
      for (const id of ['#mqtt-host', '#mqtt-port', '#mqtt-prefix', '#mqtt-user']) delete $(id).dataset.edited;
      if (reply.body.mqtt_credentials) $('#mqtt-reply').textContent += ` (${reply.body.mqtt_credentials})`;
    }
  });
  $('#token-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const reply = await post('/tokens', { name: $('#token-name').value, role: $('#token-role').value });
    const out = $('#token-reply');
    if (show(out, reply, [])) {
      // Shown this once: evsed keeps only a digest.
      out.textContent = `${t('tokens.made')}: ${reply.body.token}`;
      $('#token-name').value = '';
    }
    loadTokens();
  });
  $('#user-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const fields = { name: $('#user-name').value, role: $('#user-role').value };
    if ($('#user-password').value) fields.password = $('#user-password').value;
    const reply = await post('/users', fields, { inBody: true });
    $('#user-password').value = '';
    if (show($('#user-reply'), reply, [])) $('#user-name').value = '';
    loadUsers();
  });
  $('#download-bundle').addEventListener('click', downloadBundle);
  $('#password-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $('#password-reply');
    const next = $('#password-new').value;
    const fields = { current: $('#password-current').value, password: next };
    const again = $('#password-again').value;
    for (const id of ['#password-current', '#password-new', '#password-again']) $(id).value = '';
    if (next !== again) {
      out.textContent = t('setup.mismatch');
      out.classList.add('bad');
      return;
    }
    const reply = await post('/password', fields, { inBody: true });
    // A new password ends every login of the account, this one too: log in again with it.
    if (show(out, reply, [], t('password.changed'))) await logInAs(account, next);
  });
  $('#download-json').addEventListener('click', () => {
    const blob = new Blob([JSON.stringify(S, null, 2)], { type: 'application/json' });
    const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: 'evsed-settings.json' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
  $('#language').addEventListener('change', async (e) => {
    localStorage.setItem('evsed.lang', e.target.value);
    await use(e.target.value);
    buildSettings();
    if (S) render(S);
    route();
  });
  $('#theme').addEventListener('click', () => {
    const dark = $('#theme').getAttribute('aria-pressed') === 'true';
    const next = dark ? 'light' : 'dark';
    localStorage.setItem('evsed.theme', next);
    applyTheme(next);
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(localStorage.getItem('evsed.theme')));
  window.addEventListener('hashchange', route);
  $('#login-form').addEventListener('submit', logIn);
  $('#setup-form').addEventListener('submit', setUp);
  $('#login-open').addEventListener('click', () => showLogin(true));
  $('#logout').addEventListener('click', async () => {
    await fetch('/logout', { method: 'POST', headers: headers() });
    csrf = '';
    location.reload();
  });
  // Timers and the session clock move between events.
  setInterval(() => { renderTimers(); renderSessionFigures(); }, 1000);
}

async function main() {
  applyTheme(localStorage.getItem('evsed.theme'));
  const lang = pick();
  $('#language').value = LANGUAGES.includes(lang) ? lang : 'en';
  await use(lang);
  buildSettings();
  wire();
  route();
  const me = await whoami();
  // An admin already (a trusted network) adds accounts on the Settings page instead.
  if (me?.role !== 'admin') await offerSetup();
  if (!needLogin) connect();
}

main();
