import { describe, expect, it } from 'vitest';
import { compareIds, countCodePoints, takeCodePoints, textWithinLimit } from './limits.js';

describe('countCodePoints', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['한국어', 3],
    ['👍', 1],
    ['👍🏽', 2], // emoji + skin-tone modifier: two code points
    ['a\ud800b', 3], // a lone surrogate counts as one
  ])('%j has %i code points', (text, expected) => {
    expect(countCodePoints(text)).toBe(expected);
    expect(countCodePoints(text)).toBe([...text].length);
  });
});

describe('textWithinLimit', () => {
  it('accepts 100,000 emoji (200,000 UTF-16 units) and refuses 100,001', () => {
    expect(textWithinLimit('😀'.repeat(100_000))).toBe(true);
    expect(textWithinLimit('😀'.repeat(100_001))).toBe(false);
    expect(textWithinLimit('a'.repeat(100_000))).toBe(true);
    expect(textWithinLimit('a'.repeat(100_001))).toBe(false);
  });
});

describe('compareIds', () => {
  it('orders decimal ids numerically, not lexically', () => {
    expect(compareIds('9', '10')).toBeLessThan(0);
    expect(compareIds('117820932617142272', '117820932617142271')).toBeGreaterThan(0);
    expect(compareIds('5', '5')).toBe(0);
  });
});

describe('takeCodePoints', () => {
  it.each([
    ['abc', 5, 'abc'],
    ['abcdef', 3, 'abc'],
    ['😀😀😀', 2, '😀😀'], // a surrogate pair stays whole
    ['a😀b', 2, 'a😀'],
    ['a\ud800bc', 2, 'a\ud800'], // a lone surrogate counts as one
  ])('%j cut to %i code points is %j', (text, max, expected) => {
    expect(takeCodePoints(text, max)).toBe(expected);
    expect(takeCodePoints(text, max)).toBe([...text].slice(0, max).join(''));
  });
});
