import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import type { Authorizer } from './authorization.ts';
import type { TokenGeneratorRegistry } from './generators/index.ts';
import type { Clock } from './model.ts';

export type DomainConfig = Pick<Config, 'engine' | 'knownScopes' | 'tokenPrefix' | 'minExpirySeconds' | 'historyRetentionDays' | 'policyResources'>;

/** What every domain operation works with; built once by createTessera. */
export interface DomainDeps {
  db: Database;
  config: DomainConfig;
  generators: TokenGeneratorRegistry;
  authorizer: Authorizer;
  now: Clock;
}
