import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import type { Logger } from '../logger.ts';

/**
 * A resource's bytes, their brotli and gzip forms, and the negotiation of
 * which to send (Accept-Encoding, If-None-Match), for the bodies Tessera keeps
 * in memory: the console's files and the GraphiQL page. Written here rather
 * than taken from a compression middleware because those compress each
 * response as it streams; these bodies are compressed once and answered
 * from memory with an ETag per encoding.
 */

export type Encoding = 'br' | 'gzip' | 'identity';

/**
 * How hard to compress. The console's files are compressed once per process,
 * at startup, in the background on libuv's thread pool (the server listens at
 * once; a request that comes first waits for its body), not at build time
 * (the build would have to keep .br/.gz files in step with every file):
 * brotli's best quality is affordable there, paid once for bodies sent to every
 * visitor (measured on the built console: 111 KB of script, 26.8 KB at quality
 * 11 in 0.15 s, 28.7 KB at 9 in 27 ms, 29.9 KB gzipped at level 9 in 6 ms).
 * The GraphiQL page, 9 MB, would take 21 s at quality 11: it is compressed when
 * first asked for, at quality 5 (1.95 MB in 0.5 s; quality 4: 2.08 MB in
 * 0.4 s), and gzipped at level 6 (2.44 MB in 0.17 s; level 9 saves 10 KB more
 * in twice the time).
 */
export type Effort = 'best' | 'quick';

const BROTLI_QUALITY: Record<Effort, number> = { best: zlibConstants.BROTLI_MAX_QUALITY, quick: 5 };
const GZIP_LEVEL: Record<Effort, number> = { best: 9, quick: 6 };

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** By content hash, encoding and effort: several servers in one process (tests, a restart) compress a body once. */
const compressions = new Map<string, Promise<Buffer>>();

function compress(bytes: Buffer, hash: string, encoding: 'br' | 'gzip', effort: Effort): Promise<Buffer> {
  const key = `${hash}:${encoding}:${effort}`;
  let compressed = compressions.get(key);
  if (!compressed) {
    compressed =
      encoding === 'br'
        ? brotliAsync(bytes, {
            params: {
              [zlibConstants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY[effort],
              [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
              [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
            },
          })
        : gzipAsync(bytes, { level: GZIP_LEVEL[effort] });
    compressions.set(key, compressed);
  }
  return compressed;
}

interface Body {
  encoding: Encoding;
  bytes: Buffer;
  etag: string;
}

/**
 * One resource's bytes and its compressed forms, each with its own strong
 * ETag (a cache must not take a gzip body for a brotli one). A compressed
 * form no smaller than the original is not used.
 */
export class Representations {
  readonly hash: string;
  readonly identity: Body;
  private readonly encoded = new Map<'br' | 'gzip', Promise<Body>>();

  constructor(
    bytes: Buffer,
    private readonly compressible: boolean,
    private readonly effort: Effort,
    private readonly logger: Logger,
  ) {
    this.hash = createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
    this.identity = { encoding: 'identity', bytes, etag: `"${this.hash}"` };
  }

  /** Every ETag this resource has been sent with: a revalidation with any of them is answered 304. */
  get etags(): string[] {
    return [this.identity.etag, `"${this.hash}-br"`, `"${this.hash}-gz"`];
  }

  body(encoding: Encoding): Promise<Body> {
    if (encoding === 'identity' || !this.compressible) return Promise.resolve(this.identity);
    let body = this.encoded.get(encoding);
    if (!body) {
      body = compress(this.identity.bytes, this.hash, encoding, this.effort).then(
        (bytes): Body =>
          bytes.length < this.identity.bytes.length ? { encoding, bytes, etag: `"${this.hash}-${encoding === 'br' ? 'br' : 'gz'}"` } : this.identity,
        (error: unknown) => {
          this.logger.error({ err: error, encoding }, 'compression failed: serving the body uncompressed');
          return this.identity;
        },
      );
      this.encoded.set(encoding, body);
    }
    return body;
  }
}

/** br, then gzip, else identity, by the request's Accept-Encoding (q=0 refuses a coding; `*` stands for the unnamed). */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding {
  if (!acceptEncoding) return 'identity';
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...parameters] = part.trim().toLowerCase().split(';');
    const quality = parameters.map((parameter) => parameter.trim()).find((parameter) => parameter.startsWith('q='));
    weights.set(name.trim(), quality === undefined ? 1 : Number(quality.slice(2)));
  }
  const accepts = (coding: string) => (weights.get(coding) ?? weights.get('*') ?? 0) > 0;
  if (accepts('br')) return 'br';
  if (accepts('gzip') || (weights.get('x-gzip') ?? 0) > 0) return 'gzip';
  return 'identity';
}

/** If-None-Match names one of the resource's ETags (compared weakly, as RFC 9110 says for this header), or `*`. */
export function isFresh(ifNoneMatch: string | undefined, etags: readonly string[]): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || etags.includes(trimmed.replace(/^W\//, ''));
  });
}
