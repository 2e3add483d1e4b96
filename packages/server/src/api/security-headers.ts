/**
 * Browser-side defences on every HTTP response, the web app's and the API's alike (helmet):
 *
 * - Content-Security-Policy: scripts, styles, fonts, images, workers and the manifest only from
 *   this origin, nothing inline (the built web app has no inline script or style), no plugins,
 *   no <base> tricks, and no framing. WebSockets may go to other hosts (`ws:`/`wss:`) because
 *   discovery can hand out a gateway on another host of the fleet.
 * - X-Frame-Options: DENY beside `frame-ancestors 'none'` (older browsers), nosniff, and
 *   Referrer-Policy: no-referrer (chat links must not leak the page they were clicked from).
 * - Permissions-Policy: every powerful feature the app does not use is off.
 *
 * Strict-Transport-Security is left to the TLS-terminating proxy (deploy/), which knows whether
 * the site is served over HTTPS; sent over plain HTTP, browsers ignore it anyway.
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export const contentSecurityPolicy = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'", 'ws:', 'wss:'],
  'worker-src': ["'self'"],
  'manifest-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

export const permissionsPolicy = [
  'accelerometer=()',
  'autoplay=()',
  'browsing-topics=()',
  'camera=()',
  'display-capture=()',
  'geolocation=()',
  'gyroscope=()',
  'hid=()',
  'magnetometer=()',
  'microphone=()',
  'midi=()',
  'payment=()',
  'serial=()',
  'usb=()',
].join(', ');

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: Object.fromEntries(Object.entries(contentSecurityPolicy).map(([k, v]) => [k, [...v]])),
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    noSniff: true,
    strictTransportSecurity: false,
    // Nothing here is meant to be embedded by other sites.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('permissions-policy', permissionsPolicy);
  });
}
