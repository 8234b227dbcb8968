import type { IncomingMessage } from 'node:http';
import type { Authentication } from '../domain/authentication.ts';

/**
 * What yoga's plugins share about a request, in a module of its own so that
 * the plugins (authentication-plugin.ts, oauth.ts) need not import each other.
 */
export type ServerContext = { req?: IncomingMessage };
export type SuccessfulAuthentication = Extract<Authentication, { ok: true }>;
