/** Small hand-written SVG charts: lines on log axes, grouped bars. No dependencies. */

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: [number, number][];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
  /** Horizontal reference line, e.g. the 100 ms latency bound. */
  hLine?: { y: number; label: string };
  /** Draw y = x (offered = delivered). */
  diagonal?: boolean;
}

const W = 720;
const H = 400;
const M = { left: 70, right: 190, top: 40, bottom: 50 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmt(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (v >= 1) return `${+v.toPrecision(3)}`;
  return `${+v.toPrecision(2)}`;
}

function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
      }
    }
    return out;
  }
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 5 || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= 8) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-9; v += nice) out.push(v);
  return out;
}

function scale(lo: number, hi: number, a: number, b: number, log: boolean): (v: number) => number {
  if (log) {
    const l0 = Math.log10(lo);
    const l1 = Math.log10(hi);
    return (v) => a + ((Math.log10(Math.max(v, lo)) - l0) / (l1 - l0 || 1)) * (b - a);
  }
  return (v) => a + ((v - lo) / (hi - lo || 1)) * (b - a);
}

function bounds(values: number[], log: boolean): [number, number] {
  const pos = log ? values.filter((v) => v > 0) : values;
  if (pos.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...pos);
  let hi = Math.max(...pos);
  if (log) {
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
    if (hi === lo) hi = lo * 10;
  } else {
    lo = Math.min(0, lo);
    hi = hi === lo ? lo + 1 : hi * 1.1;
  }
  return [lo, hi];
}

function frame(title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export function lineChart(c: LineChart): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1]));
  if (c.hLine) ys.push(c.hLine.y);
  if (c.diagonal) ys.push(...xs);
  const [x0, x1] = bounds(xs, !!c.logX);
  const [y0, y1] = bounds(ys, !!c.logY);
  const sx = scale(x0, x1, M.left, W - M.right, !!c.logX);
  const sy = scale(y0, y1, H - M.bottom, M.top, !!c.logY);
  const out: string[] = [];
  for (const t of ticks(y0, y1, !!c.logY)) {
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`,
    );
    out.push(`<text x="${M.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(t)}</text>`);
  }
  for (const t of ticks(x0, x1, !!c.logX)) {
    out.push(
      `<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`,
    );
    out.push(
      `<text x="${sx(t).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle" fill="#555">${fmt(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#999"/>`,
  );
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  out.push(
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`,
  );
  if (c.diagonal) {
    out.push(
      `<line x1="${sx(x0)}" y1="${sy(x0)}" x2="${sx(x1)}" y2="${sy(x1)}" stroke="#bbb" stroke-dasharray="2 3"/>`,
    );
  }
  if (c.hLine) {
    const y = sy(c.hLine.y).toFixed(1);
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#888" stroke-dasharray="6 4"/>`);
    out.push(
      `<text x="${W - M.right - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#666">${esc(c.hLine.label)}</text>`,
    );
  }
  c.series.forEach((s, i) => {
    const pts = s.points.filter((p) => (!c.logY || p[1] > 0) && (!c.logX || p[0] > 0));
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    if (pts.length > 1) {
      const d = pts.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    }
    for (const p of pts) {
      out.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    const ly = M.top + 10 + i * 18;
    out.push(
      `<line x1="${W - M.right + 12}" x2="${W - M.right + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
    );
    out.push(`<text x="${W - M.right + 42}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  return frame(c.title, out);
}

export interface BarChart {
  title: string;
  yLabel: string;
  /** Each group is a category on the x axis with one bar per series. */
  groups: { label: string; bars: { name: string; value: number | null; color: string }[] }[];
}

export function barChart(c: BarChart): string {
  const values = c.groups.flatMap((g) => g.bars.map((b) => b.value ?? 0));
  const [y0, y1] = bounds(values, false);
  const sy = scale(y0, y1, H - M.bottom, M.top, false);
  const out: string[] = [];
  for (const t of ticks(y0, y1, false)) {
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`,
    );
    out.push(`<text x="${M.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(t)}</text>`);
  }
  const gw = (W - M.left - M.right) / Math.max(1, c.groups.length);
  const names = [...new Map(c.groups.flatMap((g) => g.bars.map((b) => [b.name, b.color] as const))).entries()];
  c.groups.forEach((g, gi) => {
    const bw = (gw * 0.7) / Math.max(1, g.bars.length);
    g.bars.forEach((b, bi) => {
      if (b.value === null) return;
      const x = M.left + gi * gw + gw * 0.15 + bi * bw;
      const y = sy(b.value);
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(sy(y0) - y).toFixed(1)}" fill="${b.color}"/>`,
      );
      out.push(
        `<text x="${(x + bw / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(b.value)}</text>`,
      );
    });
    out.push(
      `<text x="${(M.left + gi * gw + gw / 2).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(g.label)}</text>`,
    );
  });
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#999"/>`,
  );
  out.push(
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`,
  );
  names.forEach(([name, color], i) => {
    const ly = M.top + 10 + i * 18;
    out.push(`<rect x="${W - M.right + 12}" y="${ly - 6}" width="24" height="12" fill="${color}"/>`);
    out.push(`<text x="${W - M.right + 42}" y="${ly + 4}">${esc(name)}</text>`);
  });
  return frame(c.title, out);
}
