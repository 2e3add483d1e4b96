import { describe, expect, it } from 'vitest';
import { SOURCE_BLOCKS, sourceAddressFor } from './messages.js';

describe('sourceAddressFor', () => {
  it('gives every connect round a fresh loopback address, per worker index, wrapping within 127/8', () => {
    const worker0 = { seed: 5, index: 0 };
    const rounds = [0, 1, 2].map((round) => sourceAddressFor(worker0, round));
    expect(rounds).toEqual(['127.1.5.1', '127.1.6.1', '127.1.7.1']);
    expect(sourceAddressFor({ seed: 5, index: 1 }, 0)).toBe('127.1.5.2');
    expect(sourceAddressFor({ seed: SOURCE_BLOCKS - 1, index: 0 }, 1)).toBe('127.1.0.1');
    expect(sourceAddressFor({ seed: SOURCE_BLOCKS - 1, index: 0 }, 0)).toBe('127.254.255.1');
  });
});
