import { z } from 'zod';

/** Scopes that always exist, whatever TESSERA_SCOPES says. */
export const ADMIN_SCOPE = 'admin:token';
export const USER_SCOPE = 'user:token';
/** For resource servers that check tokens presented to them (introspection) and nothing else. */
export const INTROSPECT_SCOPE = 'token:introspect';
/** For a Prometheus scraper: GET /metrics and nothing else. */
export const METRICS_SCOPE = 'metrics:read';
/** Longer than any generator's token: a longer credential (bootstrap secret included) is refused before it is hashed. */
export const MAX_TOKEN_LENGTH = 512;

/** The generators every Tessera has; TESSERA_DEFAULT_GENERATOR must name one. */
const BUILT_IN_GENERATORS = ['vendor_checksum', 'gafaelfawr', 'legacy_sha1'] as const;

const scopeName = /^[a-z][a-z0-9_.-]*(?::[a-z0-9_.*-]+)*$/;

/** How many proxies in front of Tessera append to X-Forwarded-For: a count, or true for one, false for none. */
const proxyHops = z
  .string()
  .regex(/^(\d+|true|false|yes|no|)$/, 'a number of trusted proxies, or true (one) / false (none)')
  .transform((value) => (/^\d+$/.test(value) ? Number(value) : value === 'true' || value === 'yes' ? 1 : 0));

const environmentSchema = z.object({
  DATABASE_URL: z
    .string()
    .default('file:./data/tessera.db')
    .refine((url) => url.startsWith('file:') || /^postgres(ql)?:\/\//.test(url), {
      message: 'must be file:<path> (SQLite) or postgresql://… (PostgreSQL)',
    }),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TESSERA_BOOTSTRAP_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters so that it cannot be guessed')
    .regex(/^\S+$/, 'must not contain spaces (an Authorization header could not carry it)')
    .max(MAX_TOKEN_LENGTH, `must be at most ${MAX_TOKEN_LENGTH} characters, the longest credential Tessera reads`)
    .optional(),
  TESSERA_SCOPES: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((scope) => scope.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(scopeName, 'scope names look like read:all or exec:notebook'))),
  TESSERA_TOKEN_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9]{0,15}$/, 'lowercase letters and digits, starting with a letter, at most 16')
    .default('tsr'),
  TESSERA_DEFAULT_GENERATOR: z.enum(BUILT_IN_GENERATORS).default('vendor_checksum'),
  TESSERA_MIN_EXPIRY_SECONDS: z.coerce.number().int().min(0).default(300),
  TESSERA_TRUST_PROXY: proxyHops.default(0),
  TESSERA_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  TESSERA_LEAK_REPORTS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  TESSERA_LAST_USED_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(60),
  TESSERA_LAST_USED_FLUSH_SECONDS: z.coerce.number().int().min(1).default(1),
  TESSERA_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(60),
  TESSERA_HISTORY_RETENTION_DAYS: z.coerce.number().int().min(1).default(365),
  TESSERA_MAX_STREAMS_PER_TOKEN: z.coerce.number().int().min(1).max(10_000).default(20),
  TESSERA_FEED_BACKLOG: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  TESSERA_EXPIRY_WARNING_DAYS: z
    .string()
    .default('7,1')
    .transform((list) =>
      list
        .split(',')
        .map((days) => days.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(/^\d{1,3}$/, 'whole numbers of days, comma-separated, such as 7,1')
          .transform(Number)
          .pipe(z.number().int().min(1).max(365)),
      ),
    ),
  TESSERA_WEBHOOK_RETRY_SECONDS: z.coerce.number().positive().max(86_400).default(10),
  TESSERA_WEBHOOK_ALLOW_PRIVATE: z
    .enum(['0', '1', 'true', 'false', ''])
    .default('0')
    .transform((value) => value === '1' || value === 'true'),
  TESSERA_POLICY_RESOURCES: z
    .string()
    .optional()
    .transform((list) =>
      list === undefined
        ? null
        : list
            .split(',')
            .map((id) => id.trim())
            .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'resource policy ids are letters, digits, dots, dashes and underscores')).nullable()),
  TESSERA_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'origins look like https://app.example.com (scheme and host, no path)'))),
});

export type Engine = 'sqlite' | 'postgresql';

export interface Config {
  databaseUrl: string;
  engine: Engine;
  host: string;
  port: number;
  logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  bootstrapToken: string | undefined;
  /** Every scope a token may carry, sorted: the configured ones plus the two built-in ones. */
  knownScopes: readonly string[];
  tokenPrefix: string;
  defaultGeneratorId: string;
  minExpirySeconds: number;
  /** Proxies in front of Tessera whose X-Forwarded-For entries are trusted (0: use the connection's address). */
  trustedProxies: number;
  authFailuresPerMinute: number;
  /** Requests to POST /leaks one client address may make per minute (it needs no credential). */
  leakReportsPerMinute: number;
  /** How stale a token's recorded last use may get before a new use is written. */
  lastUsedIntervalSeconds: number;
  /** How often the noted uses are written (and always at shutdown). */
  lastUsedFlushSeconds: number;
  /** How often the server records expiries and prunes history, in seconds; 0: never (run `tessera maintenance`). */
  sweepIntervalSeconds: number;
  historyRetentionDays: number;
  /** Live change feed streams (tokenChanges subscriptions) one token may hold open in one process. */
  maxStreamsPerToken: number;
  /** Events a feed stream may hold unread before it is closed (its client resumes from its last cursor). */
  feedBacklog: number;
  /** Resource ids a policy may name; null: any. */
  policyResources: readonly string[] | null;
  /** Origins a browser may call Tessera from; none: no cross-origin access. */
  corsOrigins: readonly string[];
  /** Days before expiry at which token.expiring is sent, once each, ascending and distinct. */
  expiryWarningDays: readonly number[];
  /** The first delay before a failed webhook delivery is tried again (doubling after each failure). */
  webhookRetrySeconds: number;
  /** Whether webhooks may be delivered to loopback, private and link-local addresses. */
  webhookAllowPrivate: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/** Reads and validates the environment once, at startup, so a typo fails loudly before the server listens. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const env = parsed.data;
  return {
    databaseUrl: env.DATABASE_URL,
    engine: env.DATABASE_URL.startsWith('file:') ? 'sqlite' : 'postgresql',
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    bootstrapToken: env.TESSERA_BOOTSTRAP_TOKEN,
    knownScopes: [...new Set([...env.TESSERA_SCOPES, ADMIN_SCOPE, USER_SCOPE, INTROSPECT_SCOPE, METRICS_SCOPE])].sort(),
    tokenPrefix: env.TESSERA_TOKEN_PREFIX,
    defaultGeneratorId: env.TESSERA_DEFAULT_GENERATOR,
    minExpirySeconds: env.TESSERA_MIN_EXPIRY_SECONDS,
    trustedProxies: env.TESSERA_TRUST_PROXY,
    authFailuresPerMinute: env.TESSERA_AUTH_FAILURES_PER_MINUTE,
    leakReportsPerMinute: env.TESSERA_LEAK_REPORTS_PER_MINUTE,
    corsOrigins: env.TESSERA_CORS_ORIGINS,
    lastUsedIntervalSeconds: env.TESSERA_LAST_USED_INTERVAL_SECONDS,
    lastUsedFlushSeconds: env.TESSERA_LAST_USED_FLUSH_SECONDS,
    sweepIntervalSeconds: env.TESSERA_SWEEP_INTERVAL_SECONDS,
    historyRetentionDays: env.TESSERA_HISTORY_RETENTION_DAYS,
    maxStreamsPerToken: env.TESSERA_MAX_STREAMS_PER_TOKEN,
    feedBacklog: env.TESSERA_FEED_BACKLOG,
    policyResources: env.TESSERA_POLICY_RESOURCES,
    expiryWarningDays: [...new Set(env.TESSERA_EXPIRY_WARNING_DAYS)].sort((a, b) => a - b),
    webhookRetrySeconds: env.TESSERA_WEBHOOK_RETRY_SECONDS,
    webhookAllowPrivate: env.TESSERA_WEBHOOK_ALLOW_PRIVATE,
  };
}
