import { InvalidInputError, MissingTokenInfoKeyError, UnknownTokenGeneratorError } from '../errors.ts';
import { GafaelfawrTokenGenerator } from './gafaelfawr.ts';
import { LegacySha1TokenGenerator } from './legacy-sha1.ts';
import type { TokenGenerator, TokenGeneratorContext, TokenInfo } from './types.ts';
import { VendorChecksumTokenGenerator } from './vendor-checksum.ts';

function isPresent(tokenInfo: TokenInfo, key: string): boolean {
  return Object.hasOwn(tokenInfo, key) && tokenInfo[key] !== undefined;
}

export class TokenGeneratorRegistry {
  readonly defaultId: string;
  private readonly generators = new Map<string, TokenGenerator>();

  constructor(generators: Iterable<TokenGenerator>, defaultId: string) {
    for (const generator of generators) this.register(generator);
    if (!this.generators.has(defaultId)) {
      throw new Error(`The default token generator "${defaultId}" is not registered.`);
    }
    this.defaultId = defaultId;
  }

  register(generator: TokenGenerator): void {
    if (this.generators.has(generator.id)) {
      throw new Error(`A token generator with id "${generator.id}" is already registered.`);
    }
    this.generators.set(generator.id, generator);
  }

  get(id: string): TokenGenerator | undefined {
    return this.generators.get(id);
  }

  /** Whether tokens of this generator still work but should be replaced (legacy_sha1). */
  isDeprecated(id: string): boolean {
    return this.generators.get(id)?.deprecated ?? false;
  }

  resolve(
    id: string | null | undefined,
    tokenInfo: TokenInfo | null | undefined,
    context: TokenGeneratorContext,
  ): { generator: TokenGenerator; tokenInfo: TokenInfo } {
    const generatorId = id ?? this.defaultId;
    const generator = this.generators.get(generatorId);
    if (!generator) throw new UnknownTokenGeneratorError();

    if (tokenInfo === null || tokenInfo === undefined) {
      return { generator, tokenInfo: generator.defaultTokenInfo(context) };
    }
    // token_info arrives as a GraphQL JSON scalar, so the static type is not a guarantee.
    if (typeof tokenInfo !== 'object' || Array.isArray(tokenInfo)) {
      throw new InvalidInputError('token_info must be a JSON object.', 'tokenInfo');
    }
    const missingKey = generator.requiredInfoKeys.find((key) => !isPresent(tokenInfo, key));
    if (missingKey !== undefined) throw new MissingTokenInfoKeyError(missingKey);
    return { generator, tokenInfo };
  }

  /**
   * Whether any registered generator could have made `token`. A string none
   * recognizes (a typo, a truncated paste, a vendor token whose checksum does
   * not match) is refused without a database lookup, as djblets'
   * validate_token lets a server do.
   */
  recognizes(token: string): boolean {
    for (const generator of this.generators.values()) if (generator.validateToken(token)) return true;
    return false;
  }

  ids(): string[] {
    return [...this.generators.keys()];
  }
}

/** vendor_checksum is the default, as in djblets 3 (whose legacy fallback is legacy_sha1). */
export function createDefaultRegistry(defaultId = 'vendor_checksum'): TokenGeneratorRegistry {
  return new TokenGeneratorRegistry([new VendorChecksumTokenGenerator(), new GafaelfawrTokenGenerator(), new LegacySha1TokenGenerator()], defaultId);
}
