// Small JSON dictionaries (en, nl, de), chosen by the browser's language or the switch.
export const LANGUAGES = ['en', 'nl', 'de'];
let words = {};
let fallback = {};
let current = 'en';

export function pick() {
  const saved = localStorage.getItem('evsed.lang');
  if (LANGUAGES.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

async function dictionary(lang) {
  const r = await fetch(`i18n/${lang}.json`);
  if (!r.ok) throw new Error(`i18n/${lang}.json: ${r.status}`);
  return r.json();
}

export async function use(lang) {
  if (!fallback.nav) fallback = await dictionary('en');
  words = lang === 'en' ? fallback : await dictionary(lang);
  current = lang;
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
}

export const language = () => current;

// "dash.state" -> words.dash.state; a missing key falls back to English, then to the key.
export function t(key, vars) {
  const look = (d) => key.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), d);
  let s = look(words);
  if (typeof s !== 'string') s = look(fallback);
  if (typeof s !== 'string') s = key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? vars[k] : `{${k}}`));
  return s;
}
