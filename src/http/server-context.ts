import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authentication } from '../domain/authentication.ts';

/**
 * What the HTTP layer shares about a request, in a module of its own so that
 * its pieces (authenticate-request.ts, authentication-plugin.ts, yoga.ts) need not import each other.
 */
export type ServerContext = { req?: IncomingMessage; res?: ServerResponse };
export type SuccessfulAuthentication = Extract<Authentication, { ok: true }>;
