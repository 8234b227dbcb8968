/**
 * djblets' access-policy validation on generateToken and editToken: each
 * fault answered with INVALID_POLICY and djblets' exact message, nothing
 * written on refusal. (How a policy decides is unit-tested in
 * test/unit/policy.test.ts, and its use by introspection in
 * introspection.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.ts';
import { engines, startServer, type TestServer } from '../support/harness.ts';
import { cast, expectNoErrors, generate, mint, rowCounts, type Cast } from '../support/operations.ts';

const EDIT_POLICY = graphql(`
  mutation EditPolicy($input: EditTokenInput!) {
    editToken(input: $input) {
      __typename
      ... on EditTokenPayload { token { key policy } }
      ... on Error { code message }
    }
  }
`);

const POLICY_OF = graphql(`
  query PolicyOf($key: String!) {
    token(key: $key) { policy }
  }
`);

type Policy = Record<string, unknown>;

/** Each fault djblets names, with its message. */
const FAULTS: [string, Policy, string][] = [
  ['no resources section', { other: {} }, 'The policy is missing a "resources" section.'],
  ['resources a list', { resources: [] }, 'The policy\'s "resources" section must be a JSON object.'],
  ['resources a string', { resources: 'all' }, 'The policy\'s "resources" section must be a JSON object.'],
  ['resources empty', { resources: {} }, 'The policy\'s "resources" section must not be empty.'],
  ['the global section not an object', { resources: { '*': ['GET'] } }, 'The "resources.*" section must be a JSON object.'],
  ['an item section not an object', { resources: { someobject: { '42': 'GET' } } }, 'The "resources.someobject.42" section must be a JSON object.'],
  ['a section with neither rule', { resources: { '*': {} } }, 'The "resources.*" section must have "allow" and/or "block" rules.'],
  [
    'a section with other rules only',
    { resources: { someobject: { '*': { deny: ['GET'] } } } },
    'The "resources.someobject.*" section must have "allow" and/or "block" rules.',
  ],
  [
    'an allow rule not a list',
    { resources: { someobject: { '*': { allow: 'GET' } } } },
    'The "resources.someobject.*" section\'s "allow" rule must be a list.',
  ],
  [
    'a block rule not a list',
    { resources: { someobject: { '*': { allow: ['GET'], block: { GET: true } } } } },
    'The "resources.someobject.*" section\'s "block" rule must be a list.',
  ],
  ['a global block rule not a list', { resources: { '*': { block: 'DELETE' } } }, 'The "resources.*" section\'s "block" rule must be a list.'],
];

/** Accepted with any resource id configured, and with TESSERA_POLICY_RESOURCES=someobject. */
const VALID: Policy[] = [
  {},
  { resources: { '*': { allow: ['*'] } } },
  { resources: { '*': { block: ['DELETE'] }, someobject: { '*': { allow: ['GET'] }, '42': { block: ['*'], allow: [] } } } },
];

describe.each(engines())('access policies on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  /** A USER token of alice's whose policy the edits try to change. */
  let editedKey: string;

  beforeAll(async () => {
    server = await startServer(engine, { env: { TESSERA_POLICY_RESOURCES: 'someobject' } });
    people = await cast(server);
    editedKey = (await mint(server, people.alice, { name: 'edited', scopes: ['read:all'], policy: { resources: { '*': { allow: ['GET'] } } } })).token.key;
  });
  afterAll(async () => server?.close());

  async function policyOf(key: string): Promise<unknown> {
    return expectNoErrors(await server.request(POLICY_OF, { key }, { token: people.admin })).token?.policy;
  }

  /** generateToken and editToken both refuse `policy` with INVALID_POLICY and `message`, and write nothing. */
  async function expectRefused(policy: Policy, message: string) {
    const before = await rowCounts(server);
    const policyBefore = await policyOf(editedKey);

    const generated = await generate(server, people.alice, { name: 'refused', scopes: ['read:all'], policy });
    expect(generated).toEqual({ __typename: 'InvalidPolicyError', code: 'INVALID_POLICY', message });

    const edited = expectNoErrors(await server.request(EDIT_POLICY, { input: { key: editedKey, policy } }, { token: people.alice })).editToken;
    expect(edited).toEqual({ __typename: 'InvalidPolicyError', code: 'INVALID_POLICY', message });

    expect(await rowCounts(server)).toEqual(before);
    expect(await policyOf(editedKey)).toEqual(policyBefore);
  }

  it.each(FAULTS)('refuses %s', async (_fault, policy, message) => {
    await expectRefused(policy, message);
  });

  it('refuses a resource policy id that is not configured', async () => {
    await expectRefused({ resources: { foobar: { '*': { allow: ['GET'] } } } }, '"foobar" is not a valid resource policy ID.');
    // Also beside a configured one, and under a global section.
    await expectRefused(
      { resources: { '*': { allow: ['*'] }, someobject: { '*': { allow: ['GET'] } }, foobar: { '*': { allow: ['GET'] } } } },
      '"foobar" is not a valid resource policy ID.',
    );
  });

  it('accepts {} (full access) and well-formed policies on generateToken and editToken, and stores them as given', async () => {
    for (const [index, policy] of VALID.entries()) {
      const minted = await mint(server, people.alice, { name: `valid-${index}`, scopes: ['read:all'], policy });
      expect(minted.token.policy).toEqual(policy);
      expect(await policyOf(minted.token.key)).toEqual(policy);

      const edited = expectNoErrors(await server.request(EDIT_POLICY, { input: { key: editedKey, policy } }, { token: people.alice })).editToken;
      expect(edited).toEqual({ __typename: 'EditTokenPayload', token: { key: editedKey, policy } });
      expect(await policyOf(editedKey)).toEqual(policy);
    }
    // A token minted without a policy has the empty one.
    expect(await policyOf(people.aliceKey)).toEqual({});
  });

  it('accepts any resource policy id when TESSERA_POLICY_RESOURCES is unset', async () => {
    const open = await startServer(engine);
    try {
      const openCast = await cast(open);
      const policy = { resources: { foobar: { '*': { allow: ['GET'] } } } };
      const minted = await mint(open, openCast.alice, { name: 'any-id', scopes: ['read:all'], policy });
      expect(minted.token.policy).toEqual(policy);
    } finally {
      await open.close();
    }
  });
});
