import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CloseCode, ErrorCode, errorStatus } from './errors.js';

const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

it('docs/protocol.md lists every error code with its HTTP status', () => {
  for (const code of Object.values(ErrorCode)) {
    expect(doc, code).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${errorStatus[code]}\\s*\\|`));
  }
});

it('docs/protocol.md lists every close code', () => {
  for (const code of Object.values(CloseCode)) {
    expect(doc, String(code)).toMatch(new RegExp(`\\|\\s*${code}\\s*\\|`));
  }
});
