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
 * Korean word has none): docs/architecture.md, "Search and mentions".
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

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

const EXTENDS = /[\p{M}\p{Emoji_Modifier}\u200d]/u;

/**
 * Whether the code point `code` (after `previous`) continues the grapheme cluster before it: a
 * combining mark (variation selectors included), an emoji modifier, a zero-width joiner or what
 * follows one, or a Hangul vowel or final consonant jamo after a jamo (a decomposed syllable).
 * A simplified UAX #29, enough to fold by (Intl.Segmenter is far slower, and not linear in V8).
 */
function extendsCluster(code: number, previous: number): boolean {
  if (code < 0x300) return false;
  if (previous === 0x200d) return true;
  if ((code >= 0x1160 && code <= 0x11ff) || (code >= 0xd7b0 && code <= 0xd7fb)) {
    return (previous >= 0x1100 && previous <= 0x11ff) || (previous >= 0xd7b0 && previous <= 0xd7fb);
  }
  return EXTENDS.test(String.fromCodePoint(code));
}

/** A code point that folds to itself: a precomposed Hangul syllable, a CJK ideograph, kana. */
function foldsToItself(code: number): boolean {
  return (code >= 0xac00 && code <= 0xd7a3) || (code >= 0x4e00 && code <= 0x9fff) || (code >= 0x3041 && code <= 0x3096);
}

/**
 * The text folded, as code points, each with the [start, end) code-point range of the original
 * cluster it came from.
 */
export function foldText(text: string, origins = true): { chars: string[]; from: number[]; to: number[] } {
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
  const points = Array.from(text);
  let at = 0;
  while (at < points.length) {
    const first = points[at]!;
    const code = first.codePointAt(0)!;
    let end = at + 1;
    let previous = code;
    while (end < points.length) {
      const next = points[end]!.codePointAt(0)!;
      if (!extendsCluster(next, previous)) break;
      previous = next;
      end++;
    }
    if (end === at + 1 && (code < 0x80 || foldsToItself(code))) {
      chars.push(code < 0x80 ? first.toLowerCase() : first);
      if (origins) {
        from.push(at);
        to.push(end);
      }
    } else {
      for (const ch of foldCluster(end === at + 1 ? first : points.slice(at, end).join(''))) {
        chars.push(ch);
        if (origins) {
          from.push(at);
          to.push(end);
        }
      }
    }
    at = end;
  }
  return { chars, from, to };
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

/** The tokens a text is indexed by, in order (a token may repeat). */
export function textTokens(text: string): string[] {
  const tokens = indexTokens(text);
  return tokens === '' ? [] : tokens.split(' ');
}

/**
 * What the stores index for a text: its tokens, separated by single spaces. The same runs and
 * tokens as `runs`/`runTokens` (which queries and highlights use), made in one pass over the
 * folded string without an array per character: a 100,000-character text is indexed on the
 * event loop as it is sent.
 */
export function indexTokens(text: string): string {
  const ascii = asciiTokens(text);
  if (ascii !== undefined) return ascii;
  const folded = foldsPlainly(text) ? text.toLowerCase() : foldText(text, false).chars.join('');
  const out: string[] = [];
  let kind: CharClass = 'other';
  let runStart = 0;
  let wordEnd = 0;
  let wordLength = 0;
  let previous = '';
  const endRun = (at: number) => {
    if (kind === 'word') out.push(folded.slice(runStart, wordLength > MAX_WORD_CODE_POINTS ? wordEnd : at));
    else if (kind === 'cjk') out.push(previous);
  };
  for (let i = 0; i < folded.length;) {
    const code = folded.codePointAt(i)!;
    const size = code > 0xffff ? 2 : 1;
    const ch = size === 1 ? folded[i]! : folded.slice(i, i + 2);
    const now: CharClass = foldsToItself(code) ? 'cjk' : classify(ch);
    if (now !== kind || now === 'emoji') {
      endRun(i);
      kind = now;
      runStart = i;
      wordLength = 0;
      previous = '';
    }
    if (now === 'word') {
      wordLength++;
      if (wordLength === MAX_WORD_CODE_POINTS) wordEnd = i + size;
    } else if (now === 'cjk') {
      if (previous !== '') out.push(previous + ch);
      previous = ch;
    } else if (now === 'emoji') {
      out.push(ch);
      kind = 'other';
    }
    i += size;
  }
  endRun(folded.length);
  return out.join(' ');
}

/** Each ASCII byte as indexed: a letter lower-cased, a digit as it is, anything else 0 (between words). */
const ASCII_FOLD = new Uint8Array(128);
for (let code = 0x30; code <= 0x39; code++) ASCII_FOLD[code] = code;
for (let code = 0x61; code <= 0x7a; code++) ASCII_FOLD[code] = code;
for (let code = 0x41; code <= 0x5a; code++) ASCII_FOLD[code] = code + 0x20;

/**
 * indexTokens of an ASCII text (undefined if it has any other character): its words lower-cased,
 * each cut to MAX_WORD_CODE_POINTS, one space between. Written out as one pass over the text's
 * bytes because the common case is on every send's path. For 10,000 characters: lower-casing,
 * matching words with a regular expression and joining them took 115 µs; a loop over
 * `charCodeAt` with range checks 36-53 µs, a quarter of the event loop's busy time at 2,500 such
 * DMs/s; this, a table lookup per byte of a Buffer that native code filled, 17-24 µs
 * (docs/benchmarks.md, finding 43).
 */
function asciiTokens(text: string): string | undefined {
  // Native, and a character per byte only when every character is ASCII.
  if (Buffer.byteLength(text, 'utf8') !== text.length) return undefined;
  const bytes = Buffer.from(text, 'latin1');
  // The tokens are written over the bytes already read: each byte read adds at most one byte,
  // and the space before a word takes the place of the separator that ended the one before.
  let length = 0;
  let wordLength = 0;
  for (let i = 0; i < bytes.length; i++) {
    const code = ASCII_FOLD[bytes[i]!]!;
    if (code !== 0) {
      if (wordLength === 0 && length > 0) bytes[length++] = 0x20;
      if (++wordLength <= MAX_WORD_CODE_POINTS) bytes[length++] = code;
    } else {
      wordLength = 0;
    }
  }
  return bytes.toString('latin1', 0, length);
}

/** Whether lower-casing alone folds the text: only ASCII and characters that fold to themselves. */
function foldsPlainly(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80 || foldsToItself(code)) continue;
    // Emoji and pictographs (U+1F300..U+1FAFF) have no case and no compatibility form.
    const point = text.codePointAt(i)!;
    if (point >= 0x1f300 && point <= 0x1faff) {
      i++;
      continue;
    }
    return false;
  }
  return true;
}

/**
 * The terms of a query, or undefined if it has none (empty, or only punctuation and spaces).
 * A CJK word is the phrase of its bigrams (a single character: a prefix); any other word is a
 * prefix; an emoji is an exact token. The caller refuses queries over MAX_QUERY_CODE_POINTS.
 */
export function parseSearchQuery(query: string): SearchTerm[] | undefined {
  const { chars } = foldText(query.normalize('NFC'), false);
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
