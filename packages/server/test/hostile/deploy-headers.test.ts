/**
 * The proxy configs in deploy/ send the same browser-side defences as the server, so what the
 * proxy answers itself (redirects, errors, denials) is covered too and nothing contradicts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, permissionsPolicy } from '../../src/api/security-headers.js';

const root = new URL('../../../../deploy/', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');
const csp = Object.entries(contentSecurityPolicy)
  .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
  .join(';');

describe.each([
  ['nginx/parley.conf', 'add_header', true],
  ['compose/nginx.conf', 'add_header', false],
  ['haproxy/haproxy.cfg', 'http-after-response set-header', true],
])('%s', (file, directive, tls) => {
  const config = read(file);
  const value = (name: string) => new RegExp(`${directive} ${name} "([^"]*)"`).exec(config)?.[1];

  it('sends the server CSP, nosniff, DENY, no-referrer and the Permissions-Policy', () => {
    expect(value('Content-Security-Policy')).toBe(csp);
    expect(value('X-Content-Type-Options')).toBe('nosniff');
    expect(value('X-Frame-Options')).toBe('DENY');
    expect(value('Referrer-Policy')).toBe('no-referrer');
    expect(value('Permissions-Policy')).toBe(permissionsPolicy);
  });

  it(tls ? 'adds HSTS where it terminates TLS' : 'sends no HSTS over plain HTTP', () => {
    expect(value('Strict-Transport-Security')).toBe(tls ? 'max-age=31536000' : undefined);
  });
});
