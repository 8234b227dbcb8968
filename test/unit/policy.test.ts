import { describe, expect, it } from 'vitest';
import { InvalidPolicyError } from '../../src/domain/errors.ts';
import type { JsonObject, JsonValue } from '../../src/domain/model.ts';
import { isAllowed, isAtLeastAsRestrictive, validatePolicy } from '../../src/domain/rules/policy.ts';

/*
 * A port of djblets/webapi/tests/test_api_policy.py. djblets' APIPolicyTests call
 * is_resource_method_allowed(resources_policy, …) on a resource whose policy_id is
 * "test"; here the same `resources` documents are wrapped in `{resources: …}`.
 * Its APIPolicyValidationTests use a root resource whose only policy id is "someobject".
 */

const ALL = ['HEAD', 'GET', 'POST', 'PATCH', 'PUT', 'DELETE'];
const ALL_BUT_PATCH = ['HEAD', 'GET', 'POST', 'PUT', 'DELETE'];

interface EvaluationCase {
  test: string;
  resources: JsonObject | null;
  resourceId?: string;
  allowed?: string[];
  blocked?: string[];
}

const evaluationCases: EvaluationCase[] = [
  { test: 'test_default_policy', resources: null, allowed: ALL },
  { test: 'test_global_allow_all', resources: { '*': { allow: ['*'] } }, allowed: ALL },
  { test: 'test_global_block_all', resources: { '*': { block: ['*'] } }, blocked: ALL },
  {
    test: 'test_global_block_all_and_resource_allow_all',
    resources: { '*': { block: ['*'] }, test: { '*': { allow: ['*'] } } },
    allowed: ALL,
  },
  {
    test: 'test_global_allow_all_and_resource_block_all',
    resources: { '*': { allow: ['*'] }, test: { '*': { block: ['*'] } } },
    blocked: ALL,
  },
  {
    test: 'test_global_block_all_and_resource_all_allow_methods',
    resources: { '*': { block: ['*'] }, test: { '*': { allow: ['GET', 'PUT'] } } },
    allowed: ['GET', 'PUT'],
    blocked: ['HEAD', 'POST', 'PATCH', 'DELETE'],
  },
  {
    test: 'test_global_allow_all_and_resource_all_block_specific',
    resources: { '*': { allow: ['*'] }, test: { '*': { block: ['GET', 'PUT'] } } },
    allowed: ['HEAD', 'POST', 'PATCH', 'DELETE'],
    blocked: ['GET', 'PUT'],
  },
  {
    test: 'test_resource_block_all_and_allow_methods',
    resources: { test: { '*': { block: ['*'], allow: ['GET', 'PUT'] } } },
    allowed: ['GET', 'PUT'],
    blocked: ['HEAD', 'POST', 'PATCH', 'DELETE'],
  },
  {
    test: 'test_resource_allow_all_and_block_methods',
    resources: { test: { '*': { allow: ['*'], block: ['GET', 'PUT'] } } },
    allowed: ['HEAD', 'POST', 'DELETE'],
    blocked: ['GET', 'PUT'],
  },
  { test: 'test_id_allow_all', resources: { test: { '42': { allow: ['*'] } } }, resourceId: '42', allowed: ALL_BUT_PATCH },
  { test: 'test_id_block_all', resources: { test: { '42': { block: ['*'] } } }, resourceId: '42', blocked: ALL_BUT_PATCH },
  { test: 'test_id_block_all', resources: { test: { '42': { block: ['*'] } } }, resourceId: '100', allowed: ALL_BUT_PATCH },
  {
    test: 'test_resource_block_all_and_id_allow_all',
    resources: { test: { '*': { block: ['*'] }, '42': { allow: ['*'] } } },
    resourceId: '42',
    allowed: ALL_BUT_PATCH,
  },
  {
    test: 'test_resource_block_all_and_id_allow_all',
    resources: { test: { '*': { block: ['*'] }, '42': { allow: ['*'] } } },
    resourceId: '100',
    blocked: ALL_BUT_PATCH,
  },
  {
    test: 'test_resource_allow_all_and_id_block_all',
    resources: { test: { '*': { allow: ['*'] }, '42': { block: ['*'] } } },
    resourceId: '42',
    blocked: ALL_BUT_PATCH,
  },
  {
    test: 'test_resource_allow_all_and_id_block_all',
    resources: { test: { '*': { allow: ['*'] }, '42': { block: ['*'] } } },
    resourceId: '100',
    allowed: ALL_BUT_PATCH,
  },
  {
    test: 'test_global_block_all_and_id_allow_all',
    resources: { '*': { block: ['*'] }, test: { '42': { allow: ['*'] } } },
    resourceId: '42',
    allowed: ALL_BUT_PATCH,
  },
  {
    test: 'test_global_allow_all_and_id_block_all',
    resources: { '*': { allow: ['*'] }, test: { '42': { block: ['*'] } } },
    resourceId: '42',
    blocked: ALL_BUT_PATCH,
  },
  {
    test: 'test_global_allow_all_and_id_block_all',
    resources: { '*': { allow: ['*'] }, test: { '42': { block: ['*'] } } },
    resourceId: '100',
    allowed: ALL_BUT_PATCH,
  },
  { test: 'test_policy_methods_conflict', resources: { test: { '*': { allow: ['*'], block: ['*'] } } }, blocked: ALL_BUT_PATCH },
];

// Tessera's own cases for details djblets leaves to its code rather than its tests.
const tesseraEvaluationCases: EvaluationCase[] = [
  // Another resource's sections do not apply; the global one does.
  { test: 'other resource', resources: { '*': { block: ['*'] }, other: { '*': { allow: ['*'] } } }, blocked: ['GET'] },
  // A section that names neither the method nor `*` defers to the next one.
  {
    test: 'undecided item section',
    resources: { '*': { block: ['*'] }, test: { '42': { allow: ['PUT'] } } },
    resourceId: '42',
    allowed: ['PUT'],
    blocked: ['GET'],
  },
  { test: 'no resourceId skips item sections', resources: { test: { '42': { block: ['*'] } } }, allowed: ['GET'] },
  // Policy entries match case-sensitively (djblets' `method in blocked`).
  { test: 'lowercase policy entry', resources: { '*': { block: ['get'] } }, allowed: ['GET'] },
  { test: 'inherited keys are not sections', resources: { '*': { block: ['*'] } }, resourceId: 'constructor', blocked: ['GET'] },
];

describe('isAllowed (djblets APIPolicyTests)', () => {
  for (const { test, resources, resourceId, allowed = [], blocked = [] } of [...evaluationCases, ...tesseraEvaluationCases]) {
    const policy: JsonObject = resources === null ? {} : { resources };
    it(`${test}${resourceId ? ` (id ${resourceId})` : ''}`, () => {
      for (const method of allowed) {
        expect(isAllowed(policy, { resource: 'test', method, resourceId }), `${method} allowed`).toBe(true);
      }
      for (const method of blocked) {
        expect(isAllowed(policy, { resource: 'test', method, resourceId }), `${method} blocked`).toBe(false);
      }
    });
  }

  it('upper-cases the request method, as Django does', () => {
    expect(isAllowed({ resources: { '*': { block: ['GET'] } } }, { resource: 'test', method: 'get' })).toBe(false);
  });

  it('ignores malformed parts of an unvalidated policy', () => {
    const policy: JsonObject = { resources: { '*': { allow: 'GET', block: 7 }, test: [], other: { '*': null } } };
    expect(isAllowed(policy, { resource: 'test', method: 'GET', resourceId: '1' })).toBe(true);
    expect(isAllowed({ resources: [] }, { resource: 'test', method: 'GET' })).toBe(true);
  });
});

interface ValidationCase {
  test: string;
  policy: JsonValue;
  error: string | null;
  resourceIds?: readonly string[] | null;
}

const validationCases: ValidationCase[] = [
  { test: 'test_empty', policy: {}, error: null },
  { test: 'test_not_object', policy: [], error: 'The policy must be a JSON object.' },
  { test: 'test_no_resources_section', policy: { foo: {} }, error: 'The policy is missing a "resources" section.' },
  { test: 'test_resources_empty', policy: { resources: {} }, error: 'The policy\'s "resources" section must not be empty.' },
  { test: 'test_resources_invalid_format', policy: { resources: [] }, error: 'The policy\'s "resources" section must be a JSON object.' },
  { test: 'test_global_valid', policy: { resources: { '*': { allow: ['*'], block: ['POST'] } } }, error: null },
  { test: 'test_empty_global', policy: { resources: { '*': {} } }, error: 'The "resources.*" section must have "allow" and/or "block" rules.' },
  { test: 'test_global_not_object', policy: { resources: { '*': [] } }, error: 'The "resources.*" section must be a JSON object.' },
  { test: 'test_global_allow_not_list', policy: { resources: { '*': { allow: {} } } }, error: 'The "resources.*" section\'s "allow" rule must be a list.' },
  { test: 'test_global_block_not_list', policy: { resources: { '*': { block: {} } } }, error: 'The "resources.*" section\'s "block" rule must be a list.' },
  { test: 'test_resource_global_valid', policy: { resources: { someobject: { '*': { allow: ['*'], block: ['POST'] } } } }, error: null },
  {
    test: 'test_resource_global_empty',
    policy: { resources: { someobject: { '*': {} } } },
    error: 'The "resources.someobject.*" section must have "allow" and/or "block" rules.',
  },
  {
    test: 'test_resource_global_invalid_policy_id',
    policy: { resources: { foobar: { '*': { allow: ['*'] } } } },
    error: '"foobar" is not a valid resource policy ID.',
  },
  {
    test: 'test_resource_global_not_object',
    policy: { resources: { someobject: { '*': [] } } },
    error: 'The "resources.someobject.*" section must be a JSON object.',
  },
  {
    test: 'test_resource_global_allow_not_list',
    policy: { resources: { someobject: { '*': { allow: {} } } } },
    error: 'The "resources.someobject.*" section\'s "allow" rule must be a list.',
  },
  {
    test: 'test_resource_global_block_not_list',
    policy: { resources: { someobject: { '*': { block: {} } } } },
    error: 'The "resources.someobject.*" section\'s "block" rule must be a list.',
  },
  { test: 'test_resource_id_valid', policy: { resources: { someobject: { '42': { allow: ['*'], block: ['POST'] } } } }, error: null },
  {
    test: 'test_resource_id_empty',
    policy: { resources: { someobject: { '42': {} } } },
    error: 'The "resources.someobject.42" section must have "allow" and/or "block" rules.',
  },
  // test_resource_id_invalid_id_type (a non-string key, 42) has no JSON equivalent: JSON keys are strings.
  {
    test: 'test_resource_id_not_object',
    policy: { resources: { someobject: { '42': [] } } },
    error: 'The "resources.someobject.42" section must be a JSON object.',
  },
  {
    test: 'test_resource_id_allow_not_list',
    policy: { resources: { someobject: { '42': { allow: {} } } } },
    error: 'The "resources.someobject.42" section\'s "allow" rule must be a list.',
  },
  {
    test: 'test_resource_id_block_not_list',
    policy: { resources: { someobject: { '42': { block: {} } } } },
    error: 'The "resources.someobject.42" section\'s "block" rule must be a list.',
  },
];

// SPEC "Policies" and Tessera's choices where djblets has no test (or no check).
const tesseraValidationCases: ValidationCase[] = [
  { test: 'SPEC: not an object (string)', policy: 'x', error: 'The policy must be a JSON object.' },
  { test: 'SPEC: not an object (null)', policy: null, error: 'The policy must be a JSON object.' },
  { test: 'SPEC: resources null', policy: { resources: null }, error: 'The policy\'s "resources" section must be a JSON object.' },
  { test: 'SPEC: unset resource ids accept any id', policy: { resources: { foobar: { '*': { allow: ['*'] } } } }, error: null, resourceIds: null },
  { test: 'SPEC: global * is always valid', policy: { resources: { '*': { allow: ['GET'] } } }, error: null, resourceIds: [] },
  {
    test: 'global * is checked before resource ids (djblets order)',
    policy: { resources: { foobar: {}, '*': [] } },
    error: 'The "resources.*" section must be a JSON object.',
  },
  { test: 'resource id before its sections', policy: { resources: { foobar: [] } }, error: '"foobar" is not a valid resource policy ID.' },
  {
    test: 'allow checked before block',
    policy: { resources: { '*': { allow: 1, block: 2 } } },
    error: 'The "resources.*" section\'s "allow" rule must be a list.',
  },
  // djblets crashes (AttributeError) on a resource section that is not an object.
  { test: 'resource section not an object', policy: { resources: { someobject: ['*'] } }, error: 'The "resources.someobject" section must be a JSON object.' },
  { test: 'resource section null', policy: { resources: { someobject: null } }, error: 'The "resources.someobject" section must be a JSON object.' },
  // djblets accepts an empty resource section and does not check list items.
  { test: 'empty resource section', policy: { resources: { someobject: {} } }, error: null },
  { test: 'non-string rule items', policy: { resources: { '*': { allow: [1, null, {}], block: [] } } }, error: null },
  { test: 'null rule', policy: { resources: { '*': { block: null } } }, error: 'The "resources.*" section\'s "block" rule must be a list.' },
  {
    test: 'prototype names are not sections',
    policy: { resources: { someobject: { constructor: {} } } },
    error: 'The "resources.someobject.constructor" section must have "allow" and/or "block" rules.',
  },
];

describe('validatePolicy (djblets APIPolicyValidationTests)', () => {
  for (const { test, policy, error, resourceIds = ['someobject'] } of [...validationCases, ...tesseraValidationCases]) {
    it(test, () => {
      const run = () => validatePolicy(policy, resourceIds);
      if (error === null) {
        expect(run).not.toThrow();
      } else {
        expect(run).toThrow(InvalidPolicyError);
        expect(run).toThrow(expect.objectContaining({ message: error, code: 'INVALID_POLICY' }));
      }
    });
  }

  it('cuts long user-provided ids in messages', () => {
    const long = 'x'.repeat(10_000);
    const message = (policy: JsonValue) => {
      try {
        validatePolicy(policy, ['someobject']);
      } catch (error) {
        return (error as Error).message;
      }
      return null;
    };
    const badId = message({ resources: { [long]: {} } });
    expect(badId).toBe('"xxxxxxxx…" is not a valid resource policy ID.');
    const badItem = message({ resources: { someobject: { [long]: [] } } });
    expect(badItem).toBe('The "resources.someobject.xxxxxxxx…" section must be a JSON object.');
  });

  it('is safe on deeply nested input', () => {
    let deep: JsonValue = ['GET'];
    for (let i = 0; i < 16; i++) deep = { allow: deep };
    expect(() => validatePolicy({ resources: { '*': deep } }, null)).toThrow('The "resources.*" section\'s "allow" rule must be a list.');
  });
});

describe('isAtLeastAsRestrictive: the candidate allows nothing the bound denies (the minting rule)', () => {
  const BLOCK_ALL = { resources: { '*': { block: ['*'] } } };
  const NO_DELETE_REPOS = { resources: { repos: { '*': { block: ['DELETE'] } } } };
  const NO_DELETE_REPO_42 = { resources: { repos: { '42': { block: ['DELETE'] } } } };
  const GET_ONLY = { resources: { '*': { allow: ['GET'], block: ['*'] } } };

  it.each<[string, JsonObject, JsonObject, boolean]>([
    ['{} within {}', {}, {}, true],
    ['anything within {}', BLOCK_ALL, {}, true],
    ['{} not within a policy that denies something', {}, NO_DELETE_REPOS, false],
    ['a policy within itself', GET_ONLY, GET_ONLY, true],
    ['blocking everything within anything', BLOCK_ALL, GET_ONLY, true],
    ['GET-only not within blocking everything', GET_ONLY, BLOCK_ALL, false],
    ['a resource-wide block within an item block', NO_DELETE_REPOS, NO_DELETE_REPO_42, true],
    ['an item block not within a resource-wide block (item 7 may DELETE)', NO_DELETE_REPO_42, NO_DELETE_REPOS, false],
    [
      'blocking everything, twice over, within blocking everything',
      { resources: { '*': { block: ['*'] }, repos: { '*': { block: ['*'] } } } },
      BLOCK_ALL,
      true,
    ],
    ['a named allow that beats a * block is looser', { resources: { '*': { block: ['*'], allow: ['GET'] } } }, BLOCK_ALL, false],
    // Methods are upper-cased before they are compared, so a lower-case entry never matches anything.
    ['a lower-case block denies nothing', { resources: { '*': { block: ['delete'] } } }, NO_DELETE_REPOS, false],
    ['a lower-case block in the bound denies nothing', {}, { resources: { '*': { block: ['delete'] } } }, true],
    [
      'an item allow under a resource block is looser',
      { resources: { repos: { '*': { block: ['*'] }, '42': { allow: ['*'] } } } },
      { resources: { repos: { '*': { block: ['*'] } } } },
      false,
    ],
  ])('%s', (_name, candidate, bound, expected) => {
    expect(isAtLeastAsRestrictive(candidate, bound)).toBe(expected);
  });

  it('agrees with isAllowed on every request either policy names', () => {
    const policies: JsonObject[] = [{}, BLOCK_ALL, NO_DELETE_REPOS, NO_DELETE_REPO_42, GET_ONLY];
    const requests = ['repos', 'users', '*'].flatMap((resource) =>
      [null, '42', '7'].flatMap((resourceId) => [...ALL, 'OTHER'].map((method) => ({ resource, method, resourceId }))),
    );
    for (const candidate of policies) {
      for (const bound of policies) {
        const looser = requests.some((request) => !isAllowed(bound, request) && isAllowed(candidate, request));
        expect(isAtLeastAsRestrictive(candidate, bound), `${JSON.stringify(candidate)} within ${JSON.stringify(bound)}`).toBe(!looser);
      }
    }
  });
});
