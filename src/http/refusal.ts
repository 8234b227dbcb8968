import { isOAuthRequest, oauthError, type OAuthErrorCode } from './oauth.ts';

export interface Refusal {
  status: number;
  /** The machine-readable code GraphQL clients read in `extensions.code`. */
  code: string;
  message: string;
  headers?: Record<string, string>;
  /** The RFC 6749 code at the OAuth endpoints, when the status alone does not say it (oauth.ts `oauthErrorCode`). */
  oauthError?: OAuthErrorCode;
}

/**
 * A request refused before GraphQL runs (its size, its credentials), in the
 * shape the endpoint speaks: GraphQL's errors at /graphql, RFC 6749's error
 * object at the OAuth endpoints.
 */
export function refusal(request: Request, { status, code, message, headers = {}, oauthError: error }: Refusal): Response {
  if (isOAuthRequest(request)) return oauthError(status, message, { error, headers });
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}
