/**
 * Test support for the PostgreSQL adapter (used by tests only): where the test server is,
 * whether the tests may skip, and throw-away databases.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { quoteIdent } from './postgres-store.js';

/** The admin connection: used to create and drop per-run databases. */
export const pgAdminUrl = process.env.PARLEY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * false when PostgreSQL answers; otherwise the reason to skip, printed loudly. Under CI=true an
 * unreachable server throws instead: there a missing service is a failure, not a skip.
 */
export async function pgSkipReason(): Promise<string | false> {
  const client = new pg.Client({ connectionString: pgAdminUrl, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return false;
  } catch (error) {
    const reason = `PostgreSQL not reachable at ${pgAdminUrl} (${error instanceof Error ? error.message : String(error)}); set PARLEY_TEST_PG_URL`;
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${reason}`);
    console.warn(`\n!!! SKIPPING PostgreSQL tests: ${reason}\n`);
    return reason;
  } finally {
    await client.end().catch(() => {});
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name; `drop` removes it (closing leftover sessions). */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `parley_${label}_${process.pid}_${randomBytes(4).toString('hex')}`.toLowerCase();
  await admin(`CREATE DATABASE ${quoteIdent(name)}`);
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
  };
}

/** A fresh schema name, for a store isolated inside a shared test database. */
export function uniqueSchema(label = 't'): string {
  return `${label}_${randomBytes(6).toString('hex')}`;
}

export async function createSchema(url: string, schema: string): Promise<void> {
  await run(url, `CREATE SCHEMA ${quoteIdent(schema)}`);
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  await run(url, `DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
}

async function admin(sql: string): Promise<void> {
  await run(pgAdminUrl, sql);
}

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
