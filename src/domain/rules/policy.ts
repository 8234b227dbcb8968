import { InvalidPolicyError, quote } from '../errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../model.ts';

/**
 * djblets' API-token access policies:
 * `{"resources": {"*": {allow, block}, "<resource>": {"*": {…}, "<item id>": {…}}}}`.
 * Validation follows BaseWebAPIToken.validate_policy (djblets/webapi/models.py),
 * evaluation ResourceAPITokenMixin.is_resource_method_allowed
 * (djblets/webapi/resources/mixins/api_tokens.py).
 */

/** The request a policy is asked about: a resource id, an HTTP method and, for an item, its id. */
export interface PolicyRequest {
  resource: string;
  method: string;
  resourceId?: string | null;
}

// djblets puts ids in messages raw; ours come from user input, so `quote` cuts a long one.

/** An id as a segment of a dotted section path, without the quotes. */
function segment(id: string): string {
  return quote(id).slice(1, -1);
}

/**
 * Throws InvalidPolicyError with djblets' message for the first fault, checking
 * in djblets' order: the global `*` section, then each resource in turn (its id,
 * then its sections). `resourceIds` are the configured resource policy ids;
 * null accepts any id.
 */
export function validatePolicy(policy: JsonValue, resourceIds: readonly string[] | null): void {
  if (!isJsonObject(policy)) throw new InvalidPolicyError('The policy must be a JSON object.');
  // djblets: an empty policy is full access.
  if (Object.keys(policy).length === 0) return;
  if (!Object.hasOwn(policy, 'resources')) {
    throw new InvalidPolicyError('The policy is missing a "resources" section.');
  }
  const resources = policy.resources;
  if (!isJsonObject(resources)) {
    throw new InvalidPolicyError('The policy\'s "resources" section must be a JSON object.');
  }
  if (Object.keys(resources).length === 0) {
    throw new InvalidPolicyError('The policy\'s "resources" section must not be empty.');
  }
  if (Object.hasOwn(resources, '*')) validateSection(resources['*'], '"resources.*"');

  for (const [policyId, resourceSection] of Object.entries(resources)) {
    if (policyId === '*') continue;
    if (resourceIds !== null && !resourceIds.includes(policyId)) {
      throw new InvalidPolicyError(`${quote(policyId)} is not a valid resource policy ID.`);
    }
    // djblets calls .items() here unchecked (a crash on a non-object); we name the fault
    // the way it names a bad section. An empty resource section is accepted, as in djblets.
    if (!isJsonObject(resourceSection)) {
      throw new InvalidPolicyError(`The "resources.${segment(policyId)}" section must be a JSON object.`);
    }
    // djblets' "<id> must be a string" check cannot fail here: JSON object keys are strings.
    for (const [itemId, section] of Object.entries(resourceSection)) {
      validateSection(section, `"resources.${segment(policyId)}.${segment(itemId)}"`);
    }
  }
}

/** djblets' _validate_policy_section; `name` is the quoted dotted path. */
function validateSection(section: JsonValue | undefined, name: string): void {
  if (!isJsonObject(section)) throw new InvalidPolicyError(`The ${name} section must be a JSON object.`);
  const hasAllow = Object.hasOwn(section, 'allow');
  const hasBlock = Object.hasOwn(section, 'block');
  if (!hasAllow && !hasBlock) {
    throw new InvalidPolicyError(`The ${name} section must have "allow" and/or "block" rules.`);
  }
  // djblets does not check the list items; a non-string item simply never matches a method.
  if (hasAllow && !Array.isArray(section.allow)) {
    throw new InvalidPolicyError(`The ${name} section's "allow" rule must be a list.`);
  }
  if (hasBlock && !Array.isArray(section.block)) {
    throw new InvalidPolicyError(`The ${name} section's "block" rule must be a list.`);
  }
}

/**
 * Whether the policy lets the request through. djblets' precedence: the item
 * section, then the resource's `*`, then the global `*`; the first that decides
 * wins, and when none does the request is allowed (so `{}` allows everything).
 * Safe on unvalidated input: malformed parts are ignored.
 */
export function isAllowed(policy: JsonObject, request: PolicyRequest): boolean {
  const resources = policy.resources;
  if (!isJsonObject(resources)) return true;
  // Django upper-cases request.method; djblets then compares policy entries case-sensitively.
  const method = request.method.toUpperCase();
  const resourceSection = Object.hasOwn(resources, request.resource) ? resources[request.resource] : undefined;
  const sections: (JsonValue | undefined)[] = [];
  if (isJsonObject(resourceSection)) {
    // An item with no section of its own falls through to the resource's `*` (djblets' test_id_block_all).
    if (request.resourceId != null && Object.hasOwn(resourceSection, request.resourceId)) {
      sections.push(resourceSection[request.resourceId]);
    }
    sections.push(resourceSection['*']);
  }
  sections.push(resources['*']);
  for (const section of sections) {
    const decision = decide(section, method);
    if (decision !== null) return decision;
  }
  return true;
}

/** djblets' __check_resource_policy for one section: block beats allow, a named method beats `*`. */
function decide(section: JsonValue | undefined, method: string): boolean | null {
  if (!isJsonObject(section)) return null;
  const allow = Array.isArray(section.allow) ? section.allow : [];
  const block = Array.isArray(section.block) ? section.block : [];
  if (block.includes(method)) return false;
  if (allow.includes(method)) return true;
  if (block.includes('*')) return false;
  if (allow.includes('*')) return true;
  return null;
}

/**
 * Whether `candidate` allows nothing that `bound` denies (djblets has no such
 * question; the minting rule asks it). A policy decides a request by which
 * sections exist for its resource and item and which methods those sections
 * name, so every request falls into one of finitely many classes: each named
 * resource and one unnamed, each named item of it and one unnamed (which is
 * also what no item id gets), each method the consulted sections name and
 * one they do not. One request of each class is asked of both policies.
 */
export function isAtLeastAsRestrictive(candidate: JsonObject, bound: JsonObject): boolean {
  // `{}` (or any policy without resources) denies nothing: the common case, answered at once.
  if (Object.keys(resourcesOf(bound)).length === 0) return true;
  const resourceMaps = [resourcesOf(candidate), resourcesOf(bound)];
  const resourceNames = new Set(resourceMaps.flatMap((resources) => Object.keys(resources)));
  for (const resource of [...resourceNames, unnamed(resourceNames)]) {
    const resourceSections = resourceMaps.map((resources) => {
      const section = Object.hasOwn(resources, resource) ? resources[resource] : undefined;
      return isJsonObject(section) ? section : {};
    });
    const itemIds = new Set(resourceSections.flatMap((section) => Object.keys(section)));
    for (const resourceId of [...itemIds, unnamed(itemIds)]) {
      const consulted = resourceMaps.flatMap((resources, index) => [resourceSections[index]?.[resourceId], resourceSections[index]?.['*'], resources['*']]);
      // The request's method is upper-cased before it is compared, so only upper-case entries can ever match.
      const methods = new Set(consulted.flatMap(methodsNamedIn).filter((method) => method === method.toUpperCase()));
      for (const method of [...methods, unnamed(methods)]) {
        const request = { resource, method, resourceId };
        if (!isAllowed(bound, request) && isAllowed(candidate, request)) return false;
      }
    }
  }
  return true;
}

function resourcesOf(policy: JsonObject): JsonObject {
  return isJsonObject(policy.resources) ? policy.resources : {};
}

function methodsNamedIn(section: JsonValue | undefined): string[] {
  if (!isJsonObject(section)) return [];
  return [section.allow, section.block].flatMap((rule) => (Array.isArray(rule) ? rule.filter((entry): entry is string => typeof entry === 'string') : []));
}

/** A name none of `names` is: it stands for every name a policy does not mention. */
function unnamed(names: ReadonlySet<string>): string {
  let name = 'UNNAMED';
  while (names.has(name)) name += '_';
  return name;
}
