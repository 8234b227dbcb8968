import type { Database, HistoryRow, TokenRow } from '../db/client.ts';
import type { DomainDeps } from './deps.ts';
import { editToken, type EditTokenInput } from './tokens/edit.ts';
import type { GeneratedTokenResult } from './insertion.ts';
import { generateToken, type GenerateTokenInput } from './tokens/generate.ts';
import { queryHistory, type HistoryFilter } from './history/query.ts';
import { introspectToken, lookUpPresented, type AccessQuestion, type Introspection, type PresentedToken } from './tokens/introspect.ts';
import { invalidateTokens, type InvalidateTokensInput, type InvalidateTokensResult } from './tokens/invalidate.ts';
import { revokeByValue, revokeToken, type RevokeByValueOutcome } from './tokens/revoke.ts';
import { reportLeak, type LeakReporter, type LeakVerdict } from './tokens/report-leak.ts';
import { runMaintenance, type MaintenanceReport } from './tokens/maintenance.ts';
import { rotateToken, type RotatedTokenResult, type RotateTokenInput } from './tokens/rotate.ts';
import type { Actor } from './model.ts';
import type { Page, PageRequest } from './pagination.ts';
import {
  childCounts,
  childrenPages,
  getHistoryEntry,
  getToken,
  listTokens,
  successorsByKeys,
  tokensByKeys,
  type ChildrenPage,
  type ListTokensInput,
} from './tokens/reads.ts';
import { canSee } from './rules/authorization.ts';
import { isExpired, statusOf, type TokenStatus } from './rules/token-state.ts';

export type {
  AccessQuestion,
  ChildrenPage,
  EditTokenInput,
  GenerateTokenInput,
  GeneratedTokenResult,
  HistoryFilter,
  Introspection,
  InvalidateTokensInput,
  PresentedToken,
  InvalidateTokensResult,
  LeakReporter,
  LeakVerdict,
  ListTokensInput,
  MaintenanceReport,
  RevokeByValueOutcome,
  RotatedTokenResult,
  RotateTokenInput,
  TokenStatus,
};

/**
 * The domain's one entry point for the API and the command line: each
 * method is one operation, which authorizes its actor, applies every rule
 * and runs its own transaction. The operations live in files of their own.
 */
export class TokenService {
  constructor(private readonly deps: DomainDeps) {}

  generateToken(actor: Actor, input: GenerateTokenInput): Promise<GeneratedTokenResult> {
    return generateToken(this.deps, actor, input);
  }

  invalidateTokens(actor: Actor, input: InvalidateTokensInput): Promise<InvalidateTokensResult> {
    return invalidateTokens(this.deps, actor, input);
  }

  revokeToken(actor: Actor, key: string, reason?: string): Promise<InvalidateTokensResult> {
    return revokeToken(this.deps, actor, key, reason);
  }

  editToken(actor: Actor, input: EditTokenInput): Promise<TokenRow> {
    return editToken(this.deps, actor, input);
  }

  rotateToken(actor: Actor, input: RotateTokenInput): Promise<RotatedTokenResult> {
    return rotateToken(this.deps, actor, input);
  }

  revokeByValue(actor: Actor, presented: string): Promise<RevokeByValueOutcome> {
    return revokeByValue(this.deps, actor, presented);
  }

  introspectToken(actor: Actor, presented: string | PresentedToken, access?: AccessQuestion | null): Promise<Introspection> {
    return introspectToken(this.deps, actor, presented, access);
  }

  /** Starts looking up a token to introspect before its caller is authenticated, so that both lookups share a statement. */
  lookUpPresented(presented: string): PresentedToken {
    return lookUpPresented(this.deps, presented);
  }

  /** A token string seen where it should not be: revoked, with its descendants, when it is an active token (reason `leaked: <where>`). */
  reportLeak(reporter: LeakReporter, presented: string, where: string): Promise<LeakVerdict> {
    return reportLeak(this.deps, reporter, presented, where);
  }

  /** The expiry sweep and history retention, recorded as the server's own (`<internal>`). */
  runMaintenance(): Promise<MaintenanceReport> {
    return runMaintenance(this.deps);
  }

  getToken(actor: Actor, key: string): Promise<TokenRow | null> {
    return getToken(this.deps, actor, key);
  }

  getHistoryEntry(actor: Actor, id: number): Promise<HistoryRow | null> {
    return getHistoryEntry(this.deps, actor, id);
  }

  listTokens(actor: Actor, input: ListTokensInput, request: PageRequest<string>): Promise<Page<TokenRow>> {
    return listTokens(this.deps, actor, input, request);
  }

  history(actor: Actor, filter: HistoryFilter, request: PageRequest<number>): Promise<Page<HistoryRow>> {
    return queryHistory(this.deps, actor, filter, request);
  }

  tokensByKeys(keys: readonly string[]): Promise<(TokenRow | null)[]> {
    return tokensByKeys(this.deps, keys);
  }

  childrenPages(keys: readonly string[], request: PageRequest<string>): Promise<ChildrenPage[]> {
    return childrenPages(this.deps, keys, request);
  }

  childCounts(keys: readonly string[]): Promise<number[]> {
    return childCounts(this.deps, keys);
  }

  successorsByKeys(keys: readonly string[]): Promise<(TokenRow | null)[]> {
    return successorsByKeys(this.deps, keys);
  }

  isExpired(token: Pick<TokenRow, 'expiresAt'>): boolean {
    return isExpired(token, this.deps.now());
  }

  statusOf(token: Pick<TokenRow, 'valid' | 'expiresAt'>): TokenStatus {
    return statusOf(token, this.deps.now());
  }

  /** Whether the actor may see this token (a row loaded by key, such as the caller's own, before it is shown). */
  isVisibleTo(actor: Actor, token: Pick<TokenRow, 'username'>): boolean {
    return canSee(actor, token.username);
  }

  /**
   * The domain's Prisma client, for @pothos/plugin-prisma, which wants one per
   * request. The plugin reads nothing through it (graphql/builder.ts): reads
   * go through the methods above.
   */
  get prismaClient(): Database {
    return this.deps.db;
  }

  isDeprecated(token: Pick<TokenRow, 'generatorId'>): boolean {
    return this.deps.generators.isDeprecated(token.generatorId);
  }
}
