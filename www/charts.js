// Hand-drawn SVG charts: bars and lines, sized by viewBox so they fit any width.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function frame(w, h) {
  return el('svg', { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: 'none', focusable: 'false', 'aria-hidden': 'true' });
}

// values: [{label, value}], drawn as bars with a few labels under them.
export function bars(target, values, { unit = '', cls = 'b', labelEvery = 1 } = {}) {
  const w = 600, h = 180, pad = 24;
  const svg = frame(w, h);
  const max = Math.max(1e-3, ...values.map((v) => v.value));
  const step = (w - pad) / Math.max(1, values.length);
  values.forEach((v, i) => {
    const bh = ((h - 2 * pad) * v.value) / max;
    const bar = el('rect', { x: pad + i * step + step * 0.1, y: h - pad - bh, width: Math.max(1, step * 0.8), height: bh, class: cls });
    bar.appendChild(el('title', {}, `${v.label}: ${v.value}${unit}`));
    svg.appendChild(bar);
    if (i % labelEvery === 0) svg.appendChild(el('text', { x: pad + i * step, y: h - 6 }, v.label));
  });
  svg.appendChild(el('line', { x1: pad, y1: h - pad, x2: w, y2: h - pad, class: 'axis' }));
  svg.appendChild(el('text', { x: 2, y: 12 }, `${round(max)}${unit}`));
  target.replaceChildren(svg);
}

// series: [{cls, points: [[t, v]]}] over [t0, t1].
export function lines(target, series, t0, t1, { unit = '' } = {}) {
  const w = 600, h = 180, pad = 24;
  const svg = frame(w, h);
  const max = Math.max(0.1, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const x = (t) => pad + ((w - pad) * (t - t0)) / Math.max(1, t1 - t0);
  const y = (v) => h - pad - ((h - 2 * pad) * v) / max;
  for (const s of series) {
    if (!s.points.length) continue;
    svg.appendChild(el('polyline', { points: s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' '), class: s.cls }));
  }
  svg.appendChild(el('line', { x1: pad, y1: h - pad, x2: w, y2: h - pad, class: 'axis' }));
  svg.appendChild(el('text', { x: 2, y: 12 }, `${round(max)}${unit}`));
  target.replaceChildren(svg);
}

const round = (v) => (v >= 100 ? Math.round(v) : Math.round(v * 10) / 10);
