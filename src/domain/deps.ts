import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import type { HotPath } from '../db/hot-path/index.ts';
import type { Authorizer } from './rules/authorization.ts';
import type { TokenGeneratorRegistry } from './generators/index.ts';
import type { Clock } from './model.ts';
import type { UsageRecorder } from './usage.ts';

type DomainConfig = Pick<
  Config,
  'engine' | 'knownScopes' | 'tokenPrefix' | 'minExpirySeconds' | 'historyRetentionDays' | 'policyResources' | 'expiryWarningDays'
>;

/** What every domain operation works with; built once by createTessera. */
export interface DomainDeps {
  db: Database;
  config: DomainConfig;
  generators: TokenGeneratorRegistry;
  authorizer: Authorizer;
  now: Clock;
  /** The statements every request runs, prepared on the driver (verification, uses, minting). */
  hotPath: HotPath;
  usage: UsageRecorder;
}
