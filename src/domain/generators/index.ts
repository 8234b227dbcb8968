export type { GeneratedToken, TokenGenerator, TokenGeneratorContext, TokenInfo } from './types.ts';
export {
  BASE62_ALPHABET,
  TOKEN_TYPE_PATTERN,
  VENDOR_CHECKSUM_LENGTH,
  VENDOR_TOKEN_LENGTH,
  VendorChecksumTokenGenerator,
  randomBase62,
  vendorChecksum,
} from './vendor-checksum.ts';
export { GafaelfawrTokenGenerator, parseGafaelfawrToken } from './gafaelfawr.ts';
export { LegacySha1TokenGenerator } from './legacy-sha1.ts';
export { TokenGeneratorRegistry, createDefaultRegistry } from './registry.ts';
