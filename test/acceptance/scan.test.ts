/**
 * `tessera scan PATH…`, run as an operator runs it (bin/tessera.js in a child
 * process): it finds Tessera tokens in files and folders by format and, for
 * vendor_checksum, by checksum; prints path:line:column and a key or a short
 * prefix, never the token; skips .git, node_modules, binary files and
 * symbolic links; exits 1 when it found any, 0 when none, 2 on a usage
 * error; reads no database unless asked to `--revoke`, which revokes each
 * active token found (actor <cli>, reason `leaked: found in <path>`), on
 * both engines.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GafaelfawrTokenGenerator, VendorChecksumTokenGenerator, vendorChecksum } from '../../src/domain/generators/index.ts';
import { runTessera, type CliRun } from '../support/cli.ts';
import { engines, startServer, type TestServer } from '../support/harness.ts';
import { cast, historyEntries, lookup, mint, revoke, VIEWER, type Cast } from '../support/operations.ts';

const vendorToken = () => new VendorChecksumTokenGenerator().createToken({ token_type: 'tsr' }).token;

/** The same token with its last checksum character changed: the format holds, the checksum does not. */
function withBrokenChecksum(token: string): string {
  const last = token.at(-1) === '0' ? '1' : '0';
  return `${token.slice(0, -1)}${last}`;
}

/** What a finding line says: `path:line:column  what`. */
const FINDING = /^(.+):(\d+):(\d+) {2}(.+)$/;

function expectNoSecretIn(run: CliRun, secrets: string[]): void {
  for (const secret of secrets) {
    // Neither the token nor any long piece of it (a prefix of 8 characters is all a line shows).
    for (const output of [run.stdout, run.stderr]) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain(secret.slice(0, 16));
      expect(output).not.toContain(secret.slice(-16));
    }
  }
}

describe('tessera scan, without a database', () => {
  let root: string;
  let tree: string;
  /** A DATABASE_URL that no one can open: a file below a regular file. */
  let unusableDatabase: string;
  const vendor = vendorToken();
  const latin1Vendor = vendorToken();
  const gafaelfawr = new GafaelfawrTokenGenerator().createToken();
  const hidden = [vendorToken(), vendorToken(), vendorToken(), vendorToken(), vendorToken()];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'tessera-scan-'));
    tree = join(root, 'tree');
    const outside = join(root, 'outside');
    mkdirSync(join(tree, 'deep', 'nested'), { recursive: true });
    mkdirSync(join(tree, '.git'));
    mkdirSync(join(tree, 'node_modules', 'pkg'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(tree, 'deep', 'nested', 'config.env'), `# settings\nHOST=example.com\n  API_TOKEN="${vendor}" # prod\n`);
    // Invalid UTF-8 before the token (two bytes that decode to two replacement characters), and no NUL: still text.
    writeFileSync(join(tree, 'latin1.txt'), Buffer.concat([Buffer.from([0xe9, 0xe8]), Buffer.from(` ${latin1Vendor}\n`)]));
    writeFileSync(join(tree, 'notes.md'), `# Notes\nÜnïcødé ${gafaelfawr.token} and more\n`);
    // Not reported: a broken checksum, a token glued to more of the same characters, a binary file, .git, node_modules, links out.
    writeFileSync(join(tree, 'broken.txt'), `token=${withBrokenChecksum(vendorToken())}\n`);
    writeFileSync(join(tree, 'glued.txt'), `${hidden[0]}A\n`);
    writeFileSync(join(tree, 'image.bin'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]), Buffer.from(hidden[1] ?? '')]));
    writeFileSync(join(tree, '.git', 'config'), `token = ${hidden[2]}\n`);
    writeFileSync(join(tree, 'node_modules', 'pkg', 'index.js'), `export const token = '${hidden[3]}';\n`);
    writeFileSync(join(outside, 'secret.env'), `TOKEN=${hidden[4]}\n`);
    symlinkSync(join(outside, 'secret.env'), join(tree, 'link.env'));
    symlinkSync(outside, join(tree, 'link-dir'));
    const blocker = join(root, 'not-a-directory');
    writeFileSync(blocker, '');
    unusableDatabase = `file:${join(blocker, 'tessera.db')}`;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints path:line:column and a key or a short prefix for each token, nothing else, and exits 1', async () => {
    const run = await runTessera(['scan', tree], { DATABASE_URL: unusableDatabase });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      `${join(tree, 'deep', 'nested', 'config.env')}:3:14  ${vendor.slice(0, 8)}…`,
      `${join(tree, 'latin1.txt')}:1:4  ${latin1Vendor.slice(0, 8)}…`,
      // Columns count characters: "Ünïcødé " is 8 of them, in 12 bytes.
      `${join(tree, 'notes.md')}:2:9  key ${gafaelfawr.key}`,
    ]);
    expect(run.stderr).toMatch(/Found 3 tokens in 3 files/);
    expectNoSecretIn(run, [vendor, latin1Vendor, gafaelfawr.token, ...hidden]);
    // It never opened the database: the unusable URL would have failed the command, in a line of its own.
    expect(run.stderr).not.toMatch(/^tessera: /m);
    expect(readdirSync(root).sort()).toEqual(['not-a-directory', 'outside', 'tree']);
  });

  it('scans files named on the command line, and exits 0 when it finds nothing', async () => {
    const one = await runTessera(['scan', join(tree, 'notes.md'), join(tree, 'broken.txt')], { DATABASE_URL: unusableDatabase });
    expect(one.code, one.stderr).toBe(1);
    expect(
      one.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => FINDING.exec(line)?.slice(1)),
    ).toEqual([[join(tree, 'notes.md'), '2', '9', `key ${gafaelfawr.key}`]]);

    const none = await runTessera(['scan', join(tree, 'broken.txt'), join(tree, 'image.bin'), join(tree, 'glued.txt')], { DATABASE_URL: unusableDatabase });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/Found 0 tokens/);
  });

  it('exits 2 on a usage error: no PATH, a PATH that does not exist, an unknown option', async () => {
    const env = { DATABASE_URL: unusableDatabase };
    const [noPath, missing, unknown] = await Promise.all([
      runTessera(['scan'], env),
      runTessera(['scan', tree, join(root, 'no-such-folder')], env),
      runTessera(['scan', '--everything', tree], env),
    ]);
    for (const run of [noPath, missing, unknown]) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^tessera: /);
    }
    expect(missing.stderr).toContain('no-such-folder');
  });
});

describe.each(engines())('tessera scan --revoke on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  let root: string;

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
    root = mkdtempSync(join(tmpdir(), 'tessera-scan-revoke-'));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const authenticates = async (secret: string) => (await server.request(VIEWER, {}, { token: secret })).status === 200;

  it('revokes each active token found with its descendants, as <cli> with reason leaked: found in <path>, and says what it did', async () => {
    const parent = await mint(server, people.alice, { name: 'scanned', scopes: ['read:all'] });
    const child = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
    const gafaelfawr = await mint(server, people.alice, { name: 'scanned-gt', scopes: ['read:all'], tokenGeneratorId: 'gafaelfawr' });
    const earlier = await mint(server, people.alice, { name: 'revoked-earlier', scopes: ['read:all'] });
    await revoke(server, people.alice, earlier.token.key);
    const untouched = await mint(server, people.alice, { name: 'not-in-the-files', scopes: ['read:all'] });
    const entropy = 'k'.repeat(255 - 'tsr_'.length - 6);
    const unissued = `tsr_${entropy}${vendorChecksum(entropy)}`;

    const tree = join(root, 'repo');
    mkdirSync(join(tree, 'src'), { recursive: true });
    const envFile = join(tree, '.env');
    const codeFile = join(tree, 'src', 'client.ts');
    writeFileSync(envFile, `TOKEN=${parent.secret}\nOLD=${earlier.secret}\n`);
    writeFileSync(codeFile, `const a = '${gafaelfawr.secret}';\nconst b = '${unissued}';\nconst c = '${parent.secret}';\n`);

    const run = await runTessera(['scan', '--revoke', tree], { DATABASE_URL: server.databaseUrl });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      `${envFile}:1:7  key ${parent.token.key}  revoked with 1 descendant`,
      `${envFile}:2:5  key ${earlier.token.key}  already revoked or expired`,
      `${codeFile}:1:12  key ${gafaelfawr.token.key}  revoked`,
      `${codeFile}:2:12  ${unissued.slice(0, 8)}…  not issued by this Tessera`,
      // The same token again: revoked once, at its first sighting.
      `${codeFile}:3:12  key ${parent.token.key}  revoked with 1 descendant`,
    ]);
    expect(run.stderr).toMatch(/Revoked 3 tokens/);
    expectNoSecretIn(run, [parent.secret, earlier.secret, gafaelfawr.secret, unissued]);

    for (const secret of [parent.secret, child.secret, gafaelfawr.secret]) expect(await authenticates(secret)).toBe(false);
    expect(await authenticates(untouched.secret)).toBe(true);
    for (const [key, file] of [
      [parent.token.key, envFile],
      [child.token.key, envFile],
      [gafaelfawr.token.key, codeFile],
    ] as const) {
      expect(await lookup(server, key)).toMatchObject({ valid: false, invalidReason: `leaked: found in ${file}` });
      const entries = (await historyEntries(server, { key, action: 'REVOKE' })).filter((entry) => entry.token === key);
      expect(entries.map((entry) => [entry.actor, entry.ipAddress])).toEqual([['<cli>', null]]);
    }
    expect((await historyEntries(server, { key: earlier.token.key, action: 'REVOKE' })).map((entry) => entry.actor)).toEqual(['alice']);

    // Run again: nothing is left to revoke, and the tokens are still found.
    const again = await runTessera(['scan', '--revoke', envFile], { DATABASE_URL: server.databaseUrl });
    expect(again.code, again.stderr).toBe(1);
    expect(again.stdout).toContain(`key ${parent.token.key}  already revoked or expired`);
    expect(again.stderr).toMatch(/Revoked 0 tokens/);
  });
});
