/**
 * A small subset of ICU MessageFormat: `{name}` substitutions and
 * `{count, plural, one {# item} other {# items}}` with `#` standing for the localized number.
 */
export type Params = Record<string, string | number>;

export function formatMessage(locale: string, template: string, params: Params = {}): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, open);
    const close = matchingBrace(template, open);
    if (close < 0) {
      out += template.slice(open);
      break;
    }
    out += formatArgument(locale, template.slice(open + 1, close), params);
    i = close + 1;
  }
  return out;
}

function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function formatArgument(locale: string, body: string, params: Params): string {
  const parts = body.split(',');
  const name = (parts[0] ?? '').trim();
  const value = params[name];
  if (parts.length < 3 || (parts[1] ?? '').trim() !== 'plural') {
    return value === undefined ? `{${body}}` : formatValue(locale, value);
  }
  const n = typeof value === 'number' ? value : Number(value);
  const cases = parseCases(body.slice(body.indexOf(',', body.indexOf(',') + 1) + 1));
  const exact = cases.get(`=${n}`);
  const category = new Intl.PluralRules(locale).select(n);
  const chosen = exact ?? cases.get(category) ?? cases.get('other') ?? '';
  return formatMessage(locale, chosen, params).replaceAll('#', new Intl.NumberFormat(locale).format(n));
}

function parseCases(s: string): Map<string, string> {
  const cases = new Map<string, string>();
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('{', i);
    if (open < 0) break;
    const key = s.slice(i, open).trim();
    const close = matchingBrace(s, open);
    if (close < 0) break;
    cases.set(key, s.slice(open + 1, close));
    i = close + 1;
  }
  return cases;
}

function formatValue(locale: string, value: string | number): string {
  return typeof value === 'number' ? new Intl.NumberFormat(locale).format(value) : value;
}
