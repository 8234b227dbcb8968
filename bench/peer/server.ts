// @ts-nocheck -- the root tsconfig includes bench/, but this file is the peer's (bench/peer/package.json, its own tsconfig.json): checked by `npx tsc -p bench/peer` once bench/peer/node_modules is installed.
// Peer benchmark server: better-auth + its API-key plugin on SQLite (better-sqlite3),
// served by better-auth's own HTTP handler on 127.0.0.1:$PORT.
//
// Run: PORT=3711 node --import tsx server.ts   (or: PORT=3711 npx tsx server.ts)
//
// Settings changed from better-auth's defaults (everything else is default):
//   - betterAuth({ rateLimit: { enabled: false } })        core per-IP limiter (on when NODE_ENV=production: 100 req / 10 s)
//   - apiKey({ rateLimit: { enabled: false } })            per-key limiter (on by default: 10 verifications / 24 h per key)
//   - secret / baseURL given explicitly (required outside dev; no effect on the measured paths)
// Key hashing stays on (plugin default: SHA-256, base64url) and storage stays "database".
//
// POST /api-key/verify is declared server-only by the plugin (createAuthEndpoint.serverOnly):
// better-auth never puts it on its HTTP router. Its documented use is `auth.api.verifyApiKey`
// from your own server route, so this file mounts exactly that at VERIFY_PATH, behind the
// same Fetch->Node adapter (`toNodeHandler` from better-auth/node) as every other route.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { testUtils } from "better-auth/plugins";
import { apiKey } from "@better-auth/api-key";

const port = Number(process.env.PORT ?? 3711);
const host = "127.0.0.1";
const baseURL = `http://${host}:${port}`;
export const AUTH_BASE_PATH = "/api/auth"; // better-auth default basePath
export const VERIFY_PATH = "/bench/api-key/verify";

const dir = mkdtempSync(join(tmpdir(), "peer-better-auth-"));
const dbFile = join(dir, "auth.db");
const sqlite = new Database(dbFile);
// better-auth sets no pragmas, so SQLite's defaults hold (rollback journal, synchronous=FULL).
// Optional, off by default: SQLITE_JOURNAL_MODE=WAL to compare against a WAL-configured service.
if (process.env.SQLITE_JOURNAL_MODE) sqlite.pragma(`journal_mode = ${process.env.SQLITE_JOURNAL_MODE}`);
const journalMode = `${sqlite.pragma("journal_mode", { simple: true })} synchronous=${sqlite.pragma("synchronous", { simple: true })}`;

const options = {
  baseURL,
  secret: process.env.BETTER_AUTH_SECRET ?? randomBytes(32).toString("hex"),
  database: sqlite,
  rateLimit: { enabled: false },
  plugins: [apiKey({ rateLimit: { enabled: false } })],
} satisfies BetterAuthOptions;

// Tables: better-auth's own migration mechanism (Kysely introspection + DDL), run in-process
// before any auth instance exists, so its startup schema check sees the finished schema.
const migrations = await getMigrations(options);
await migrations.runMigrations();

const auth = betterAuth(options);

// One user + one session, made with better-auth's own test helpers on a *separate* instance that
// shares the database and secret (the pattern its docs recommend), so the benchmarked instance
// carries no extra plugin.
const setup = betterAuth({ ...options, plugins: [...options.plugins, testUtils()] });
const setupCtx = await setup.$context;
const user = await setupCtx.test.saveUser(
  setupCtx.test.createUser({ email: "bench@example.com", name: "Bench User" }),
);
const login = await setupCtx.test.login({ userId: user.id });
const cookie = login.headers.get("cookie") ?? "";

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (request.method === "POST" && url.pathname === VERIFY_PATH) {
    const body = (await request.json()) as { key: string; configId?: string };
    const result = await auth.api.verifyApiKey({ body, headers: request.headers });
    return Response.json(result);
  }
  return auth.handler(request);
}

const server = createServer(toNodeHandler(handle));
server.listen(port, host, () => {
  const info = {
    pid: process.pid,
    baseURL,
    createURL: `${baseURL}${AUTH_BASE_PATH}/api-key/create`,
    verifyURL: `${baseURL}${VERIFY_PATH}`,
    okURL: `${baseURL}${AUTH_BASE_PATH}/ok`,
    cookie,
    userId: user.id,
    dbFile,
    journalMode,
  };
  if (process.env.READY_FILE) writeFileSync(process.env.READY_FILE, JSON.stringify(info));
  console.log(`READY ${JSON.stringify({ ...info, cookie: "<redacted>" })}`);
});

function shutdown() {
  server.close();
  server.closeAllConnections();
  try {
    sqlite.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
