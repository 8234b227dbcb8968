/**
 * databaseFault() on the errors the drivers really raise: better-sqlite3's
 * (what the hot path meets on SQLite) and pg's (the hot path on PostgreSQL).
 * Prisma's wrapping of both is covered end to end in errors.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { databaseFault } from '../../src/db/faults.ts';

function thrownBy(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

async function rejectionOf(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error('expected an error');
    },
    (error: unknown) => error,
  );
}

describe('databaseFault on better-sqlite3', () => {
  const directory = mkdtempSync(join(tmpdir(), 'tessera-faults-'));
  const path = join(directory, 'faults.db');
  const db = new Database(path);
  db.exec('CREATE TABLE t (x BLOB)');
  afterAll(() => {
    db.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('recognises a full database (SQLITE_FULL)', () => {
    db.pragma('max_page_count = 1');
    const error = thrownBy(() => db.prepare('INSERT INTO t VALUES (zeroblob(100000))').run());
    db.pragma('max_page_count = 4294967294');
    expect((error as { code?: string }).code).toBe('SQLITE_FULL');
    expect(databaseFault(error)).toBe('STORAGE_FULL');
  });

  it('recognises a read-only database (SQLITE_READONLY)', () => {
    const readOnly = new Database(path, { readonly: true });
    try {
      expect(databaseFault(thrownBy(() => readOnly.prepare('INSERT INTO t VALUES (1)').run()))).toBe('DATABASE_READ_ONLY');
    } finally {
      readOnly.close();
    }
    db.pragma('query_only = 1');
    const error = thrownBy(() => db.prepare('INSERT INTO t VALUES (1)').run());
    db.pragma('query_only = 0');
    expect(databaseFault(error)).toBe('DATABASE_READ_ONLY');
  });

  it('leaves every other error alone', () => {
    db.exec('CREATE TABLE u (x TEXT UNIQUE)');
    db.prepare("INSERT INTO u VALUES ('a')").run();
    expect(databaseFault(thrownBy(() => db.prepare("INSERT INTO u VALUES ('a')").run()))).toBeNull();
    expect(databaseFault(thrownBy(() => db.prepare('SELECT * FROM nowhere').all()))).toBeNull();
    expect(databaseFault(new Error('boom'))).toBeNull();
    expect(databaseFault({ code: 'constructor' })).toBeNull();
    expect(databaseFault(null)).toBeNull();
  });
});

describe('databaseFault on pg', () => {
  const postgresUrl = inject('postgresUrl');

  it('recognises a server that cannot be reached', async () => {
    // Port 1 on the loopback: nothing listens there.
    const client = new pg.Client({ host: '127.0.0.1', port: 1, user: 'nobody', database: 'nothing' });
    expect(databaseFault(await rejectionOf(client.connect()))).toBe('DATABASE_UNAVAILABLE');
  });

  it.runIf(postgresUrl)('recognises a write refused by a read-only transaction (25006) and a terminated session (57P01)', async () => {
    const client = new pg.Client({ connectionString: postgresUrl ?? '' });
    await client.connect();
    const other = new pg.Client({ connectionString: postgresUrl ?? '' });
    await other.connect();
    try {
      await client.query('BEGIN READ ONLY');
      const readOnly = await rejectionOf(client.query('CREATE TEMPORARY TABLE t (x int)'));
      expect((readOnly as { code?: string }).code).toBe('25006');
      expect(databaseFault(readOnly)).toBe('DATABASE_READ_ONLY');
      await client.query('ROLLBACK');
      // A client without an error listener would throw the termination out of the test.
      other.on('error', () => {});
      const { rows } = await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const terminated = rejectionOf(other.query('SELECT pg_sleep(5)'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
      expect(databaseFault(await terminated)).toBe('DATABASE_UNAVAILABLE');
    } finally {
      await client.end();
      await other.end().catch(() => {});
    }
  });
});
