import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mentionCandidates } from './mentions.js';
import { highlightRanges, indexTokens, parseSearchQuery } from './search-text.js';

describe('search text', () => {
  it('indexes an ASCII text as its lower-cased letter-and-digit words, each cut to 64 characters', () => {
    const asciiText = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '9', ' ', '-', '_', '\n', 'q'.repeat(70)) });
    fc.assert(
      fc.property(fc.oneof(asciiText, fc.string({ unit: 'binary-ascii' })), (text) => {
        const words = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
        expect(indexTokens(text)).toBe(words.map((w) => w.slice(0, 64)).join(' '));
      }),
    );
  });

  it('indexes CJK runs as bigrams plus their last character, other words whole, emoji alone', () => {
    expect(indexTokens('서울역에서 만나요')).toBe('서울 울역 역에 에서 서 만나 나요 요');
    expect(indexTokens('Café ÉCOLE ﬁle ①')).toBe('cafe ecole file 1');
    expect(indexTokens('東京タワー')).toBe('東京 京タ タワ ワー ー');
    expect(indexTokens('회의 😀👍🏽!')).toBe('회의 의 😀 👍');
    expect(indexTokens('Parley회의')).toBe('parley 회의 의');
  });

  it('cuts a long word at the same length in the index and in a query', () => {
    for (const word of ['a'.repeat(70), 'é'.repeat(70), '𝒜'.repeat(70)]) {
      const [term] = parseSearchQuery(word)!;
      expect(term).toEqual({ kind: 'prefix', token: indexTokens(word) });
    }
  });

  it('keeps Japanese voiced marks, which are not diacritics to strip', () => {
    expect(indexTokens('が')).toBe('が');
    expect(indexTokens('が')).not.toBe(indexTokens('か'));
  });

  it('folds a decomposed Hangul text (as macOS writes it) like the composed one', () => {
    expect(indexTokens('회의'.normalize('NFD'))).toBe(indexTokens('회의'));
  });

  it('parses a query into phrases of bigrams, prefixes and exact emoji, without repeats', () => {
    expect(parseSearchQuery('서울역 CAFÉ 京 🎉 cafe')).toEqual([
      { kind: 'phrase', tokens: ['서울', '울역'] },
      { kind: 'prefix', token: 'cafe' },
      { kind: 'prefix', token: '京' },
      { kind: 'phrase', tokens: ['🎉'] },
    ]);
  });

  it('finds nothing to search in empty, space-only or punctuation-only queries', () => {
    for (const q of ['', '   ', '!?', '"*" -( )', '\u3000']) expect(parseSearchQuery(q)).toBeUndefined();
  });

  it('highlights matches as code-point ranges of the original text', () => {
    const terms = parseSearchQuery('회의 cafe')!;
    expect(highlightRanges('회의는 3시 Café 회의', terms)).toEqual([
      [0, 2],
      [7, 11],
      [12, 14],
    ]);
    // An emoji before the match counts as one code point; a skin tone stays with its emoji.
    expect(highlightRanges('😀 hi 👍🏽 there', parseSearchQuery('👍 the')!)).toEqual([
      [5, 7],
      [8, 11],
    ]);
    // A decomposed é is two code points of the original.
    expect(highlightRanges('cafe\u0301!', parseSearchQuery('café')!)).toEqual([[0, 5]]);
  });
});

describe('mention candidates', () => {
  it('finds @names after a start or a separator, lower-cased, with and without a trailing period', () => {
    expect(mentionCandidates('hi @Alice. and @bob_1, mail a@b.com (@carol)')).toEqual([
      'alice.',
      'alice',
      'bob_1',
      'carol',
    ]);
    expect(mentionCandidates('no mentions @ab here')).toEqual([]);
  });
});
