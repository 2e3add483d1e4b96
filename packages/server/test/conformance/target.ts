/**
 * The deployment a conformance file talks to. Tests only see its public face (an `Endpoint`: the
 * API base URL and the socket URL that discovery announces), so every file runs unchanged on:
 * - the embedded server (SQLite), in this process on an ephemeral port (the default);
 * - a fleet of separate processes on PostgreSQL and a Redis of its own, two gateways and one API
 *   node (PARLEY_CONFORMANCE_TARGET=fleet; the root `npm test` runs the suite both ways);
 * - an existing deployment (PARLEY_CONFORMANCE_URL=http://host:port); files that must configure
 *   or restart the server skip then.
 *
 * Without PostgreSQL or redis-server the fleet variant skips every test loudly; under CI=true it
 * fails instead, as the other PostgreSQL tests do.
 */
import { beforeEach } from 'vitest';
import { pgSkipReason } from '../../src/adapters/postgres/testing.js';
import { PrivateRedis } from '../../src/adapters/redis/testing.js';
import { discoverWs, type Endpoint } from '../harness.js';

export type TargetKind = 'embedded' | 'fleet' | 'external';

export const externalUrl = process.env.PARLEY_CONFORMANCE_URL?.replace(/\/$/, '');

export const targetKind: TargetKind = externalUrl
  ? 'external'
  : process.env.PARLEY_CONFORMANCE_TARGET === 'fleet'
    ? 'fleet'
    : 'embedded';

export interface Target extends Endpoint {
  kind: TargetKind;
  close(): Promise<void>;
}

const fleetMissing = targetKind === 'fleet' ? PrivateRedis.skipReason() || (await pgSkipReason()) : false;
if (fleetMissing) {
  // Registered while the importing file is collected, so it applies to every test in it.
  beforeEach((context) => context.skip(`fleet unavailable: ${fleetMissing}`));
}

/**
 * Starts this file's deployment with `env` on top of the test defaults (cheap password hashing,
 * no sign-up or login limit per address: every simulated user comes from 127.0.0.1).
 */
export async function startTarget(env: Record<string, string> = {}): Promise<Target> {
  if (externalUrl) {
    return { kind: 'external', baseUrl: externalUrl, wsUrl: await discoverWs(externalUrl), close: async () => {} };
  }
  if (targetKind === 'fleet' && !fleetMissing) return startFleet(env);
  const { startServer } = await import('@parley/server');
  const server = await startServer({ env });
  return {
    kind: 'embedded',
    baseUrl: server.baseUrl,
    wsUrl: await discoverWs(server.baseUrl),
    close: () => server.close(),
  };
}

async function startFleet(env: Record<string, string>): Promise<Target> {
  const { Fleet } = await import('../cluster/harness.js');
  const fleet = await Fleet.start({
    apis: 1,
    gateways: 2,
    notifiers: 0,
    env: {
      // The embedded target's settings (packages/server/src/testing.ts) where the fleet
      // launcher's differ, so that both variants test the same contract.
      PARLEY_PASSWORD_HASH_COST: '10',
      PARLEY_HEARTBEAT_MS: '5000',
      PARLEY_HEARTBEAT_TIMEOUT_MS: '30000',
      PARLEY_PRESENCE_GRACE_MS: '3000',
      ...env,
    },
  });
  const baseUrl = fleet.apiUrls[0]!;
  try {
    return { kind: 'fleet', baseUrl, wsUrl: await discoverWs(baseUrl), close: () => fleet.stop() };
  } catch (error) {
    await fleet.stop();
    throw error;
  }
}
