import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { GafaelfawrTokenGenerator, parseGafaelfawrToken, VENDOR_TOKEN_LENGTH, VendorChecksumTokenGenerator } from '../domain/generators/index.ts';
import { CLI_ACTOR } from '../domain/model.ts';
import { UsageError } from './errors.ts';

/**
 * `tessera scan [--revoke] PATH…`: finds Tessera tokens in files and
 * folders, by their format and, for vendor_checksum, their checksum, which
 * drops almost every look-alike without asking the database. Scanning reads
 * no database; `--revoke` then opens it (the domain, as the other commands
 * do) and revokes each active token found.
 *
 * Not looked for: legacy_sha1 tokens, 40 hexadecimal digits with no prefix
 * and no checksum, which every Git commit id and SHA-1 digest looks like.
 */

/** Folders that hold other people's code or a repository's objects, not what was written here. */
const SKIPPED_FOLDERS = new Set(['.git', 'node_modules']);
/** A file larger than this is skipped (with a note): a scan must not read a disk image into memory. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** A NUL byte in a file's first 8,000 bytes makes it binary, as Git decides it; binary files are skipped. */
const BINARY_SNIFF_BYTES = 8000;
/** How much of a token a finding shows when its key is not known: the prefix and a few characters, never the secret. */
const SHOWN_CHARACTERS = 8;

interface Finding {
  /** The file as the scan reached it (the PATH given, then the folders below it). */
  path: string;
  line: number;
  /** In characters (code points) from the start of the line, from 1. */
  column: number;
  token: string;
  /** Known without the database for gafaelfawr tokens, whose key is part of the string. */
  key: string | null;
}

interface Scanner {
  /** Every well-formed token in `text`, in order. */
  find(text: string): { index: number; token: string; key: string | null }[];
}

/** The configured prefix's vendor_checksum tokens whose checksum verifies, and gafaelfawr tokens (`gt-<key>.<secret>`). */
function scannerFor(prefix: string): Scanner {
  const vendor = new VendorChecksumTokenGenerator();
  const gafaelfawr = new GafaelfawrTokenGenerator();
  // The prefix is lowercase letters and digits (config.ts); the whole token is VENDOR_TOKEN_LENGTH long, and
  // a longer run of the same characters is not one.
  const vendorPattern = new RegExp(`(?<![0-9A-Za-z_])${prefix}_[0-9A-Za-z]{${VENDOR_TOKEN_LENGTH - prefix.length - 1}}(?![0-9A-Za-z_])`, 'g');
  const gafaelfawrPattern = /(?<![0-9A-Za-z_-])gt-[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{22}(?![0-9A-Za-z_-])/g;
  return {
    find(text) {
      const found: { index: number; token: string; key: string | null }[] = [];
      for (const match of text.matchAll(vendorPattern)) {
        if (vendor.validateToken(match[0], { token_type: prefix })) found.push({ index: match.index, token: match[0], key: null });
      }
      for (const match of text.matchAll(gafaelfawrPattern)) {
        if (gafaelfawr.validateToken(match[0])) found.push({ index: match.index, token: match[0], key: parseGafaelfawrToken(match[0])?.key ?? null });
      }
      return found.sort((a, b) => a.index - b.index);
    },
  };
}

/** Line and column (from 1, in code points) of each offset into `text`; offsets ascending. */
function positions(text: string, offsets: number[]): { line: number; column: number }[] {
  let line = 1;
  let lineStart = 0;
  let scanned = 0;
  return offsets.map((offset) => {
    for (let newline = text.indexOf('\n', scanned); newline !== -1 && newline < offset; newline = text.indexOf('\n', newline + 1)) {
      line += 1;
      lineStart = newline + 1;
    }
    scanned = offset;
    return { line, column: [...text.slice(lineStart, offset)].length + 1 };
  });
}

/** A note on stderr about what the scan could not or would not read; the scan goes on. */
function note(message: string): void {
  process.stderr.write(`tessera scan: ${message}\n`);
}

/** The tokens in one file; none in a file that is binary, too large or unreadable (with a note for the last two). */
async function scanFile(path: string, size: number, scanner: Scanner): Promise<Finding[]> {
  if (size > MAX_FILE_BYTES) {
    note(`skipped ${path}: larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
    return [];
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    note(`skipped ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    return [];
  }
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return [];
  // Invalid UTF-8 becomes U+FFFD; tokens are ASCII and read the same.
  const text = bytes.toString('utf8');
  const found = scanner.find(text);
  const at = positions(
    text,
    found.map((match) => match.index),
  );
  return found.map((match, i) => ({ path, line: at[i]?.line ?? 0, column: at[i]?.column ?? 0, token: match.token, key: match.key }));
}

/** Every file below `folder`, in name order; symbolic links are not followed, so the scan stays in the tree and no link loop can hold it. */
async function* filesBelow(folder: string): AsyncGenerator<{ path: string; size: number }> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    note(`skipped ${folder}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) yield* filesBelow(path);
    } else if (entry.isFile()) {
      const size = await stat(path).then(
        (stats) => stats.size,
        () => 0,
      );
      yield { path, size };
    }
  }
}

/** What the operator is shown of a token: its key when known, else its first few characters. Never the whole string. */
function shown(finding: Pick<Finding, 'token' | 'key'>): string {
  return finding.key === null ? `${finding.token.slice(0, SHOWN_CHARACTERS)}…` : `key ${finding.key}`;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

export async function scan(config: Config, args: string[]): Promise<number> {
  const { values, positionals: paths } = parseArgs({ args, options: { revoke: { type: 'boolean', default: false } }, allowPositionals: true });
  if (paths.length === 0) throw new UsageError('scan needs at least one PATH (a file or a folder): tessera scan [--revoke] PATH…');
  // Every PATH is checked before any is scanned: a typo is a usage error, not a clean scan.
  const roots = await Promise.all(
    paths.map(async (path) => {
      const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot scan ${path}: ${error.code === 'ENOENT' ? 'no such file or folder' : (error.code ?? 'unreadable')}`);
      });
      return { path, stats };
    }),
  );

  const scanner = scannerFor(config.tokenPrefix);
  const findings: Finding[] = [];
  let files = 0;
  for (const { path, stats } of roots) {
    const below = stats.isDirectory() ? filesBelow(path) : [{ path, size: stats.size }];
    for await (const file of below) {
      const found = await scanFile(file.path, file.size, scanner);
      files += 1;
      findings.push(...found);
      if (!values.revoke) for (const finding of found) process.stdout.write(`${finding.path}:${finding.line}:${finding.column}  ${shown(finding)}\n`);
    }
  }
  const inFiles = new Set(findings.map((finding) => finding.path)).size;
  process.stderr.write(
    `Found ${plural(findings.length, 'token', 'tokens')} in ${plural(inFiles, 'file', 'files')} (${plural(files, 'file', 'files')} scanned).\n`,
  );
  if (values.revoke && findings.length > 0) await revokeFound(config, findings);
  return findings.length > 0 ? 1 : 0;
}

/**
 * Revokes each active token found, with its descendants (actor `<cli>`,
 * reason `leaked: found in <absolute path>` of its first occurrence), and
 * prints each finding with what became of its token.
 */
async function revokeFound(config: Config, findings: Finding[]): Promise<void> {
  // Only --revoke loads the database client and the domain.
  const { withDomain } = await import('./domain.ts');
  await withDomain(config, async ({ tokens }) => {
    const outcomes = new Map<string, string>();
    let revoked = 0;
    for (const finding of findings) {
      let outcome = outcomes.get(finding.token);
      if (outcome === undefined) {
        const verdict = await tokens.reportLeak({ actor: CLI_ACTOR, ipAddress: null }, finding.token, `found in ${resolve(finding.path)}`);
        if (!verdict.issued) outcome = `${shown(finding)}  not issued by this Tessera`;
        else if (verdict.revoked.count === 0) outcome = `key ${verdict.key}  already revoked or expired`;
        else {
          const descendants = verdict.revoked.count - 1;
          outcome = `key ${verdict.key}  revoked${descendants > 0 ? ` with ${plural(descendants, 'descendant', 'descendants')}` : ''}`;
          revoked += verdict.revoked.count;
        }
        outcomes.set(finding.token, outcome);
      }
      process.stdout.write(`${finding.path}:${finding.line}:${finding.column}  ${outcome}\n`);
    }
    process.stderr.write(`Revoked ${plural(revoked, 'token', 'tokens')}, descendants included.\n`);
  });
}
