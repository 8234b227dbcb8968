/** The error codes of RFC 6749 §5.2 and RFC 6750 §3.1 that the endpoints answer with. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unauthorized_client'
  | 'temporarily_unavailable'
  | 'server_error';

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
 * A GraphQL request refused before GraphQL runs (its size, its credentials),
 * in GraphQL's shape. The OAuth endpoints, which never reach yoga, spell the
 * same refusals as RFC 6749 error objects (oauth.ts `oauthRefusal`).
 */
export function refusal({ status, code, message, headers = {} }: Refusal): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}
