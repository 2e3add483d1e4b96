import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CloseCode, ErrorCode, closeBehaviour, closeCodeRanges, errorStatus } from './errors.js';

const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
const closeSection = doc.slice(doc.indexOf('### Close codes'), doc.indexOf('\n## ', doc.indexOf('### Close codes')));

it('docs/protocol.md lists every error code with its HTTP status', () => {
  for (const code of Object.values(ErrorCode)) {
    expect(doc, code).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${errorStatus[code]}\\s*\\|`));
  }
});

it('docs/protocol.md lists every close code with what a client does after it', () => {
  for (const code of Object.values(CloseCode)) {
    expect(closeSection, String(code)).toMatch(
      new RegExp(`\\|\\s*${code}\\s*\\|[^\\n]*\\|\\s*${closeBehaviour(code)}\\s*\\|`),
    );
  }
});

it('docs/protocol.md lists the close-code ranges in the order the client applies them', () => {
  const rows = [...closeSection.matchAll(/^\|\s*(\d+)(?:–(\d+))?\s*\|\s*(reconnect|backoff|stop)\s*\|$/gm)].map(
    ([, from, to, behaviour]) => ({ from: Number(from), to: Number(to ?? from), behaviour }),
  );
  const catchAll = closeSection.match(/^\|\s*any other\s*\|\s*(reconnect|backoff|stop)\s*\|$/m)?.[1];
  expect([...rows, { from: 0, to: Number.MAX_SAFE_INTEGER, behaviour: catchAll }]).toEqual(closeCodeRanges);
});
