/**
 * The one tokenizer of search (docs/protocol.md, "Search"): what a message's text is indexed as,
 * what a query is parsed into, and where a query matched in a text (highlights). Both stores
 * index the token string `indexTokens` makes and match the terms `parseSearchQuery` makes, so
 * the rule of what finds what lives here only.
 *
 * Folding: NFKC, lower case, and, for Latin, Greek and Cyrillic, no diacritics (NFD without
 * combining marks), applied per grapheme cluster so that every folded character knows which code
 * points of the original it came from (highlights need that; NFKC of a whole string could merge
 * characters across clusters, which per cluster it cannot).
 *
 * Tokens: a run of CJK characters (Han, Hiragana, Katakana, Hangul) becomes its overlapping
 * bigrams plus its last character alone (`서울역` -> `서울 울역 역`), so that any substring of
 * two or more characters is a phrase of adjacent bigrams and any single character is the prefix
 * of a token; every other run of letters and digits is one word token; each emoji is a token.
 * Why not split on spaces (Korean has none inside `서울역에서`) nor trigrams (a two-character
 * Korean word has none): docs/architecture.md, "Search".
 */

import type { SearchTerm } from '../ports/search.js';

/** Longest query, in code points; longer is refused (never a scan). */
export const MAX_QUERY_CODE_POINTS = 256;
/** A query of more words than this keeps the first ones. */
const MAX_QUERY_TERMS = 16;
/** A word longer than this is indexed (and queried) by its first this many characters. */
const MAX_WORD_CODE_POINTS = 64;

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u30fc]/u;
const WORD = /[\p{L}\p{N}\p{M}]/u;
const EMOJI = /\p{Extended_Pictographic}/u;
const STRIP_MARKS = /[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}]/u;
const MARKS = /\p{M}/gu;

type CharClass = 'cjk' | 'word' | 'emoji' | 'other';

function classify(ch: string): CharClass {
  const code = ch.codePointAt(0)!;
  if (code < 0x80) {
    return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a)
      ? 'word'
      : 'other';
  }
  if (CJK.test(ch)) return 'cjk';
  if (WORD.test(ch)) return 'word';
  if (EMOJI.test(ch)) return 'emoji';
  return 'other';
}

/** One grapheme cluster folded: NFKC, lower case, diacritics off Latin/Greek/Cyrillic letters. */
function foldCluster(cluster: string): string {
  let folded = cluster.normalize('NFKC').toLowerCase();
  if (STRIP_MARKS.test(folded)) {
    const stripped = folded.normalize('NFD').replace(MARKS, '').normalize('NFC');
    if (stripped !== '') folded = stripped;
  }
  return folded;
}

let segmenter: Intl.Segmenter | undefined;

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * The text folded, as code points, each with the [start, end) code-point range of the original
 * cluster it came from.
 */
export function foldText(text: string): { chars: string[]; from: number[]; to: number[] } {
  const chars: string[] = [];
  const from: number[] = [];
  const to: number[] = [];
  if (isAscii(text)) {
    const lower = text.toLowerCase();
    for (let i = 0; i < lower.length; i++) {
      chars.push(lower[i]!);
      from.push(i);
      to.push(i + 1);
    }
    return { chars, from, to };
  }
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let at = 0;
  for (const { segment } of segmenter.segment(text)) {
    const length = countCodePoints(segment);
    for (const ch of foldCluster(segment)) {
      chars.push(ch);
      from.push(at);
      to.push(at + length);
    }
    at += length;
  }
  return { chars, from, to };
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdbff) n++;
    else if (i + 1 < s.length) {
      n++;
      i++;
    } else n++;
  }
  return n;
}

/** A run of one class in folded characters: [start, end) indexes into `chars`. */
interface Run {
  kind: 'cjk' | 'word' | 'emoji';
  start: number;
  end: number;
}

function runs(chars: readonly string[]): Run[] {
  const out: Run[] = [];
  let i = 0;
  while (i < chars.length) {
    const kind = classify(chars[i]!);
    if (kind === 'other') {
      i++;
      continue;
    }
    if (kind === 'emoji') {
      out.push({ kind, start: i, end: i + 1 });
      i++;
      continue;
    }
    let j = i + 1;
    while (j < chars.length && classify(chars[j]!) === kind) j++;
    out.push({ kind, start: i, end: j });
    i = j;
  }
  return out;
}

function runTokens(chars: readonly string[], run: Run, out: string[]): void {
  if (run.kind !== 'cjk') {
    out.push(chars.slice(run.start, Math.min(run.end, run.start + MAX_WORD_CODE_POINTS)).join(''));
    return;
  }
  for (let i = run.start; i + 1 < run.end; i++) out.push(chars[i]! + chars[i + 1]!);
  out.push(chars[run.end - 1]!);
}

/** The tokens a text is indexed by, in order (a token may repeat). */
export function textTokens(text: string): string[] {
  const { chars } = foldText(text);
  const tokens: string[] = [];
  for (const run of runs(chars)) runTokens(chars, run, tokens);
  return tokens;
}

/** What the stores index for a text: its tokens, separated by single spaces. */
export function indexTokens(text: string): string {
  return textTokens(text).join(' ');
}

/**
 * The terms of a query, or undefined if it has none (empty, or only punctuation and spaces).
 * A CJK word is the phrase of its bigrams (a single character: a prefix); any other word is a
 * prefix; an emoji is an exact token. The caller refuses queries over MAX_QUERY_CODE_POINTS.
 */
export function parseSearchQuery(query: string): SearchTerm[] | undefined {
  const { chars } = foldText(query.normalize('NFC'));
  const terms: SearchTerm[] = [];
  const seen = new Set<string>();
  for (const run of runs(chars)) {
    let term: SearchTerm;
    if (run.kind === 'cjk' && run.end - run.start >= 2) {
      const tokens: string[] = [];
      for (let i = run.start; i + 1 < run.end; i++) tokens.push(chars[i]! + chars[i + 1]!);
      term = { kind: 'phrase', tokens };
    } else if (run.kind === 'emoji') {
      term = { kind: 'phrase', tokens: [chars[run.start]!] };
    } else {
      term = {
        kind: 'prefix',
        token: chars.slice(run.start, Math.min(run.end, run.start + MAX_WORD_CODE_POINTS)).join(''),
      };
    }
    const key = JSON.stringify(term);
    if (seen.has(key)) continue;
    seen.add(key);
    terms.push(term);
    if (terms.length === MAX_QUERY_TERMS) break;
  }
  return terms.length === 0 ? undefined : terms;
}

/**
 * Where the terms match in `text`: merged [start, end) code-point ranges, ascending. Computed
 * with the same folding and runs as the index: a prefix term matches at the start of a word run
 * (or, for one CJK character, anywhere in a CJK run), a phrase where its characters stand in a
 * CJK run (or the emoji itself).
 */
export function highlightRanges(text: string, terms: readonly SearchTerm[]): [number, number][] {
  const folded = foldText(text);
  const { chars } = folded;
  const found: [number, number][] = [];
  const mark = (start: number, end: number) => found.push([folded.from[start]!, folded.to[end - 1]!]);
  for (const run of runs(chars)) {
    for (const term of terms) {
      const needle = term.kind === 'prefix' ? term.token : phraseText(term.tokens);
      const length = [...needle].length;
      if (length === 0) continue;
      if (run.kind === 'cjk' && classify([...needle][0]!) === 'cjk') {
        for (let i = run.start; i + length <= run.end; i++) {
          if (matchesAt(chars, i, needle)) mark(i, i + length);
        }
      } else if (run.kind !== 'cjk' && run.end - run.start >= length && matchesAt(chars, run.start, needle)) {
        if (term.kind === 'prefix' || run.end - run.start === length) mark(run.start, run.start + length);
      }
    }
  }
  return merge(found);
}

/** The characters a phrase of bigrams (or of one token) spells. */
function phraseText(tokens: readonly string[]): string {
  if (tokens.length === 1) return tokens[0]!;
  return (
    tokens[0]! +
    tokens
      .slice(1)
      .map((t) => [...t].slice(1).join(''))
      .join('')
  );
}

function matchesAt(chars: readonly string[], at: number, needle: string): boolean {
  let i = at;
  for (const ch of needle) {
    if (chars[i] !== ch) return false;
    i++;
  }
  return true;
}

function merge(ranges: [number, number][]): [number, number][] {
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const range of ranges) {
    const last = out.at(-1);
    if (last !== undefined && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else out.push([range[0], range[1]]);
  }
  return out;
}
