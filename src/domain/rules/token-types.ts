import { InvalidInputError } from '../errors.ts';
import { TOKEN_TYPES, type TokenType } from '../model.ts';

/**
 * What each token type requires, as data: Gafaelfawr's token classes with
 * djblets' generation options. A field marked `required` must be given for
 * that type and is refused for every type that does not require it.
 */
export interface TokenTypeRule {
  name: boolean;
  service: boolean;
  parent: boolean;
  /** Only admins may create tokens of this type. */
  adminOnly: boolean;
  /** The owner's username must start with this. */
  usernamePrefix?: string;
}

export const TOKEN_TYPE_RULES: Readonly<Record<TokenType, TokenTypeRule>> = {
  session: { name: false, service: false, parent: false, adminOnly: true },
  user: { name: true, service: false, parent: false, adminOnly: false },
  notebook: { name: false, service: false, parent: true, adminOnly: false },
  internal: { name: false, service: true, parent: true, adminOnly: false },
  service: { name: false, service: false, parent: false, adminOnly: true, usernamePrefix: 'bot-' },
};

type ShapedField = 'name' | 'service' | 'parent';

const typesRequiring = (field: ShapedField) => TOKEN_TYPES.filter((type) => TOKEN_TYPE_RULES[type][field]);

/** Checks that exactly the fields the type requires are present. */
export function checkTokenShape(tokenType: TokenType, given: Partial<Record<ShapedField, string | null>>): void {
  const rule = TOKEN_TYPE_RULES[tokenType];
  for (const field of ['name', 'service', 'parent'] as const) {
    const present = given[field] != null;
    if (rule[field] && !present) throw new InvalidInputError(`${tokenType} tokens need a ${field}`, field);
    if (!rule[field] && present) throw new InvalidInputError(`Only ${typesRequiring(field).join(' and ')} tokens have a ${field}`, field);
  }
}

export function checkOwner(tokenType: TokenType, username: string): void {
  const prefix = TOKEN_TYPE_RULES[tokenType].usernamePrefix;
  if (prefix && !username.startsWith(prefix)) {
    throw new InvalidInputError(`${tokenType} tokens are only for usernames starting with ${prefix}`, 'username');
  }
}
