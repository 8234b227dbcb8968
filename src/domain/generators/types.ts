export type TokenInfo = Record<string, unknown>;

export interface GeneratedToken {
  /** The whole token string, shown to the user once. */
  token: string;
  /** Set when the format embeds the key (gafaelfawr); otherwise the caller draws a random key. */
  key?: string;
}

export interface TokenGeneratorContext {
  username: string;
  vendorPrefix: string;
}

export interface TokenGenerator {
  readonly id: string;
  /** Deprecated generators still verify; responses authenticated by their tokens carry a warning. */
  readonly deprecated: boolean;
  /** token_info keys that createToken needs. */
  readonly requiredInfoKeys: readonly string[];
  /** token_info used when the caller gives none (context: the token owner's username and the configured vendor prefix). */
  defaultTokenInfo(context: TokenGeneratorContext): TokenInfo;
  createToken(tokenInfo: TokenInfo): GeneratedToken;
  /** Whether `token` has this generator's format (and, where it has one, a matching checksum). */
  validateToken(token: string, tokenInfo?: TokenInfo): boolean;
}
