/**
 * Throughput of Tessera's hot paths, as ratios to a baseline measured in the
 * same run on the same machine: a bare graphql-yoga server answering
 * `{ ok }` with no database and no authentication. Ratios travel between
 * machines; absolute numbers do not.
 *
 *   npm run bench                        # SQLite
 *   BENCH_DATABASE_URL=postgresql://… npm run bench
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSchema, createYoga } from 'graphql-yoga';
import { createTessera } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
// Each round measures the baseline right before every case, so a ratio compares
// runs seconds apart; the median over rounds damps a noisy neighbour.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BOOTSTRAP = 'bench-bootstrap-secret-0123456789abcdefghij';

type Request = () => { body: string; headers: Record<string, string> };

async function measure(url: string, request: Request, count = REQUESTS): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const { body, headers } = request();
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const text = await response.text();
      if (response.status !== 200 || text.includes('"errors"')) throw new Error(`bench request failed: ${response.status} ${text.slice(0, 200)}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return count / ((performance.now() - started) / 1000);
}

async function baselineServer(): Promise<{ url: string; close: () => void }> {
  const yoga = createYoga({ schema: createSchema({ typeDefs: 'type Query { ok: Boolean! }', resolvers: { Query: { ok: () => true } } }), logging: false });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, close: () => server.close() };
}

const query = (text: string, variables?: unknown) => JSON.stringify({ query: text, variables });

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `file:${join(directory, 'bench.db')}`;
  const tessera = await createTessera({
    config: loadConfig({ DATABASE_URL: databaseUrl, PORT: '0', LOG_LEVEL: 'silent', TESSERA_BOOTSTRAP_TOKEN: BOOTSTRAP, TESSERA_SCOPES: 'read:all' }),
  });
  const url = await tessera.listen();
  const baseline = await baselineServer();
  try {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const mintResponse = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(BOOTSTRAP) },
      body: query('mutation { generateToken(input: { username: "bench", name: "bench", scopes: ["user:token", "read:all"] }) { ... on GenerateTokenPayload { secret } } }'),
    });
    const { data } = (await mintResponse.json()) as { data: { generateToken: { secret: string } } };
    const userToken = data.generateToken.secret;

    // Warm up both servers (JIT, connection pools, prepared statements).
    await measure(baseline.url, () => ({ body: query('{ ok }'), headers: {} }), 2000);
    await measure(url, () => ({ body: query('{ viewer { username } }'), headers: bearer(userToken) }), 2000);

    const baselineRequest: Request = () => ({ body: query('{ ok }'), headers: {} });
    let counter = 0;
    const cases: [string, Request][] = [
      ['viewer, bootstrap secret (no database)', () => ({ body: query('{ viewer { username } }'), headers: bearer(BOOTSTRAP) })],
      ['viewer, database token (lookup + lastUsedAt write)', () => ({ body: query('{ viewer { username } }'), headers: bearer(userToken) })],
      [
        'generateToken (insert + history, one transaction)',
        () => ({
          body: query('mutation($name: String!) { generateToken(input: { name: $name, scopes: ["read:all"] }) { __typename } }', { name: `t${(counter += 1)}` }),
          headers: bearer(userToken),
        }),
      ],
      [
        'tokenHistory, 100 entries with tokens and parents',
        () => ({
          body: query('{ tokenHistory(first: 100) { totalCount edges { node { token action tokenRecord { key parent { key } } } } } }'),
          headers: bearer(userToken),
        }),
      ],
    ];
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
    const baselineRates: number[] = [];
    const results = cases.map(([name]) => ({ name, rates: [] as number[], ratios: [] as number[] }));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [index, [, request]] of cases.entries()) {
        const baselineRate = await measure(baseline.url, baselineRequest);
        const rate = await measure(url, request);
        baselineRates.push(baselineRate);
        results[index]!.rates.push(rate);
        results[index]!.ratios.push(rate / baselineRate);
      }
    }
    const row = (name: string, rate: number, ratio: string) => `${name.padEnd(56)}${rate.toFixed(0).padStart(7)} req/s   ${ratio}`;
    const rows = [
      row('baseline (bare yoga, { ok })', median(baselineRates), '1.00'),
      ...results.map(({ name, rates, ratios }) => row(name, median(rates), median(ratios).toFixed(2))),
    ];
    process.stdout.write(
      `Tessera on ${tessera.config.engine}, ${REQUESTS} requests per case, ${CONCURRENCY} concurrent, median of ${ROUNDS} rounds\n` +
        `${'case'.padEnd(56)}${'rate'.padStart(13)}   ratio to baseline\n${rows.join('\n')}\n`,
    );
  } finally {
    baseline.close();
    await tessera.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
