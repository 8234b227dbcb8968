/**
 * Starts a real Tessera (HTTP server, real database) for acceptance tests,
 * on SQLite and on PostgreSQL, each in a database of its own.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { createTessera, type Tessera } from '../../src/app.ts';
import { loadConfig, type Config, type Engine } from '../../src/config.ts';
import type { TokenGeneratorRegistry } from '../../src/domain/generators/index.ts';
import type { Logger } from '../../src/logger.ts';

export const BOOTSTRAP_TOKEN = 'bootstrap-secret-for-tests-0123456789abcdef';
export const TEST_SCOPES = 'read:all,write:all,exec:notebook,exec:admin';

/** The engines this run covers: SQLite always, PostgreSQL when the global setup found one (CI insists on it). */
export function engines(): Engine[] {
  const postgresUrl = inject('postgresUrl');
  if (!postgresUrl && process.env.TESSERA_REQUIRE_POSTGRES === '1') {
    throw new Error('TESSERA_REQUIRE_POSTGRES=1 but no PostgreSQL was provided');
  }
  return postgresUrl ? ['sqlite', 'postgresql'] : ['sqlite'];
}

interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

async function freshDatabase(engine: Engine): Promise<FreshDatabase> {
  if (engine === 'sqlite') {
    const directory = mkdtempSync(join(tmpdir(), 'tessera-test-'));
    return { url: `file:${join(directory, 'tessera.db')}`, drop: async () => rmSync(directory, { recursive: true, force: true }) };
  }
  const baseUrl = inject('postgresUrl');
  if (!baseUrl) throw new Error('no PostgreSQL for this run');
  const name = `tessera_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data: Data | null;
  errors: { message: string; extensions?: { code?: string } }[] | undefined;
  extensions: Record<string, unknown> | undefined;
}

export interface TestServer {
  engine: Engine;
  url: string;
  tessera: Tessera;
  /** POSTs a GraphQL request; `token` goes in `Authorization: Bearer`. */
  graphql<Data = Record<string, unknown>>(
    token: string | null,
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<Data>>;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  generators?: TokenGeneratorRegistry;
  queryEvents?: boolean;
  logger?: Logger;
}

export async function startServer(engine: Engine, options: StartOptions = {}): Promise<TestServer> {
  const database = await freshDatabase(engine);
  const config: Config = loadConfig({
    DATABASE_URL: database.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    TESSERA_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
    TESSERA_SCOPES: TEST_SCOPES,
    TESSERA_TRUST_PROXY: '1',
    TESSERA_AUTH_FAILURES_PER_MINUTE: '1000',
    ...options.env,
  });
  const tessera = await createTessera({ config, generators: options.generators, queryEvents: options.queryEvents, logger: options.logger });
  const url = await tessera.listen();
  return {
    engine,
    url,
    tessera,
    async graphql(token, query, variables, headers = {}) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: GraphQLResponse['errors']; extensions?: Record<string, unknown> };
      return {
        status: response.status,
        headers: response.headers,
        data: (body.data ?? null) as never,
        errors: body.errors,
        extensions: body.extensions,
      };
    },
    async close() {
      await tessera.close();
      await database.drop();
    },
  };
}

export const GENERATE = /* GraphQL */ `
  mutation Generate($input: GenerateTokenInput!) {
    generateToken(input: $input) {
      __typename
      ... on GenerateTokenPayload {
        secret
        token { id key username tokenType name scopes service parentKey note policy metadata generatorId deprecated expiresAt valid }
      }
      ... on Error { code message }
      ... on InvalidInputError { field }
    }
  }
`;

export interface GeneratedToken {
  secret: string;
  token: { key: string; username: string; tokenType: string; name: string | null; scopes: string[]; parentKey: string | null; expiresAt: string | null };
}

type GenerateResult = { generateToken: ({ __typename: 'GenerateTokenPayload' } & GeneratedToken) | { __typename: string; code: string; message: string; field?: string | null } };

/** Calls generateToken and returns the union member as is. */
export async function generate(server: TestServer, actor: string, input: Record<string, unknown>, headers?: Record<string, string>) {
  const response = await server.graphql<GenerateResult>(actor, GENERATE, { input }, headers);
  if (!response.data) throw new Error(`generateToken failed: ${JSON.stringify(response.errors)}`);
  return response.data.generateToken;
}

/** Calls generateToken and insists on success. */
export async function mint(server: TestServer, actor: string, input: Record<string, unknown>, headers?: Record<string, string>): Promise<GeneratedToken> {
  const result = await generate(server, actor, input, headers);
  if (result.__typename !== 'GenerateTokenPayload') throw new Error(`expected a token, got ${JSON.stringify(result)}`);
  return result as GeneratedToken;
}

/** An admin token and a user:token holder, the usual cast of a test. */
export async function cast(server: TestServer) {
  const admin = await mint(server, BOOTSTRAP_TOKEN, { username: 'admin', name: 'admin', scopes: ['admin:token', 'user:token'] });
  const alice = await mint(server, BOOTSTRAP_TOKEN, { username: 'alice', name: 'main', scopes: ['user:token', 'read:all', 'exec:notebook'] });
  const bob = await mint(server, BOOTSTRAP_TOKEN, { username: 'bob', name: 'main', scopes: ['user:token', 'read:all'] });
  return { admin: admin.secret, alice: alice.secret, bob: bob.secret, aliceKey: alice.token.key, bobKey: bob.token.key, adminKey: admin.token.key };
}
