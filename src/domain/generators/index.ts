export type { TokenGenerator, TokenInfo } from './types.ts';
export { VENDOR_TOKEN_LENGTH, VendorChecksumTokenGenerator, vendorChecksum } from './vendor-checksum.ts';
export { GafaelfawrTokenGenerator, parseGafaelfawrToken } from './gafaelfawr.ts';
export { LegacySha1TokenGenerator } from './legacy-sha1.ts';
export { TokenGeneratorRegistry, createDefaultRegistry } from './registry.ts';
