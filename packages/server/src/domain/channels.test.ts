import { describe, expect, it } from 'vitest';
import type { MemberRecord } from '../ports/store.js';
import { successor } from './channels.js';

const member = (userId: string, role: MemberRecord['role'], joinedAt: string): MemberRecord => ({
  userId,
  role,
  joinedAt,
});

describe('owner succession', () => {
  it('hands the group to the oldest admin before any older member', () => {
    expect(
      successor([
        member('5', 'member', '2026-01-01T00:00:00.000Z'),
        member('9', 'admin', '2026-03-01T00:00:00.000Z'),
        member('7', 'admin', '2026-02-01T00:00:00.000Z'),
      ]),
    ).toBe('7');
  });

  it('hands it to the oldest member when there is no admin, the lower id first on a tie', () => {
    expect(
      successor([
        member('10', 'member', '2026-01-01T00:00:00.000Z'),
        member('9', 'member', '2026-01-01T00:00:00.000Z'),
        member('3', 'member', '2026-02-01T00:00:00.000Z'),
      ]),
    ).toBe('9');
  });

  it('has nobody to hand an empty group to', () => {
    expect(successor([])).toBeUndefined();
  });
});
