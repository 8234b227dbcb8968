import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';
import { USERNAME_PATTERN, isJsonObject, type JsonObject } from '../model.ts';

/**
 * The bounds of every input, in one place (the README lists them). Lengths
 * count code points, as people count characters: 64 emoji are a valid
 * 64-character name. Text with control characters is refused the same way on
 * both engines (PostgreSQL cannot store NUL at all), tab and newline excepted
 * in free text.
 */
export const LIMITS = {
  /** Token names, services, usernames, scope names, generator ids. */
  shortText: 64,
  /** Notes and revocation reasons. */
  longText: 1000,
  scopesPerToken: 100,
  /** Values in a filter or a list of usernames: each is a bound parameter. */
  listItems: 1000,
  /** policy, metadata and token_info, serialized as JSON. */
  jsonBytes: 16 * 1024,
  jsonDepth: 16,
} as const;

const codePoints = (text: string): number => {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
};

// C0 and C1 controls and DEL (Unicode's Cc).
const CONTROL = /\p{Cc}/u;
const CONTROL_EXCEPT_TAB_NEWLINE = /(?![\t\n])\p{Cc}/u;

/**
 * A lone surrogate (half of a UTF-16 pair, which JSON's `\ud800` can carry) is
 * no character: SQLite would store it mangled and PostgreSQL refuses it in
 * JSON, so it is refused everywhere, the same way on both engines.
 */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATE_MESSAGE = 'must be valid Unicode text (it holds a lone surrogate)';
export const isWellFormedText = (value: string): boolean => !LONE_SURROGATE.test(value);

/** At most `max` characters, no control characters (tab and newline allowed in free text). */
const text = (max: number, freeText = false) =>
  z
    .string()
    .refine(isWellFormedText, { message: LONE_SURROGATE_MESSAGE, abort: true })
    .refine((value) => !(freeText ? CONTROL_EXCEPT_TAB_NEWLINE : CONTROL).test(value), {
      message: freeText ? 'must not contain control characters other than tab and newline' : 'must not contain control characters',
      abort: true,
    })
    .refine((value) => codePoints(value) <= max, `must be at most ${max} characters`);

export const shortText = text(LIMITS.shortText);
export const longText = text(LIMITS.longText, true);
/**
 * Characters a name may not hold, because they do not show or change how the
 * rest shows: format characters (Cf: bidirectional controls such as U+202E,
 * zero-width characters such as U+200B and U+200D, U+FEFF, U+00AD, U+180E,
 * tags), line and paragraph separators, the combining grapheme joiner and the
 * Hangul fillers, which render as nothing.
 */
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]|\u034f/u;

const codePointLabel = (character: string) => `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Token names and services. Trimmed and NFC-normalized before they are
 * compared, stored or counted, so that "dup" and "dup ", and "café" composed
 * and decomposed, are one name; never blank; nothing invisible or
 * direction-changing, which would let two names look alike or one look like
 * another. The refusal names the code point, never the name.
 */
export const nameText = z
  .string()
  .refine(isWellFormedText, { message: LONE_SURROGATE_MESSAGE, abort: true })
  .refine((value) => !INVISIBLE.test(value), {
    error: (issue) => {
      const found = typeof issue.input === 'string' ? INVISIBLE.exec(issue.input)?.[0] : undefined;
      return `must not contain invisible or direction-changing characters${found ? ` (it holds ${codePointLabel(found)})` : ''}`;
    },
    abort: true,
  })
  .transform((value) => value.trim().normalize('NFC'))
  .pipe(z.string().min(1, 'must not be blank').pipe(shortText));

/**
 * Gafaelfawr's rule (USERNAME_PATTERN), said as it is: its required letter
 * comes after the first character and directly after a letter or digit, so
 * "x", "a0" and "a-b" are refused while "ab", "0a" and "ab-c" are valid.
 */
export const username = shortText.refine((value) => USERNAME_PATTERN.test(value), {
  message:
    'is not a valid username: 2 to 64 lowercase letters, digits and single inner dashes, with at least one letter that directly follows another letter or a digit (as in "ab", "0a", "bot-ci"; not "x", "a0", "a-b")',
});
/** A token's public key: 22 characters of URL-safe base64. Anything else (a token string pasted by mistake) is refused unquoted. */
export const tokenKey = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'is not a token key (22 characters of URL-safe base64)');
export const scopeList = z.array(shortText).max(LIMITS.scopesPerToken, `may hold at most ${LIMITS.scopesPerToken} scopes`);
export const list = <Item extends z.ZodType>(item: Item) => z.array(item).max(LIMITS.listItems, `may list at most ${LIMITS.listItems} values`);

/** Why a JSON document is refused, or null. Iterative, so that deep nesting cannot exhaust the stack. */
function jsonProblem(document: JsonObject): string | null {
  const pending: { value: unknown; depth: number }[] = [{ value: document, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth } = next;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return 'must not contain NUL characters';
      if (!isWellFormedText(value)) return LONE_SURROGATE_MESSAGE;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > LIMITS.jsonDepth) return `must not nest deeper than ${LIMITS.jsonDepth} levels`;
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\u0000')) return 'must not contain NUL characters';
      if (!isWellFormedText(key)) return LONE_SURROGATE_MESSAGE;
      pending.push({ value: child, depth: depth + 1 });
    }
  }
  if (Buffer.byteLength(JSON.stringify(document), 'utf8') > LIMITS.jsonBytes) return `must be at most ${LIMITS.jsonBytes} bytes as JSON`;
  return null;
}

export const jsonDocument = z.custom<JsonObject>(isJsonObject, { message: 'must be a JSON object' }).superRefine((document, context) => {
  const problem = jsonProblem(document);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/** A time both engines store exactly: years 1 to 9999. */
export const instant = z.date().refine((time) => time.getUTCFullYear() >= 1 && time.getUTCFullYear() <= 9999, 'must be between the years 1 and 9999');

/** Input that may be left out (undefined) or given as null. */
export const optional = <Schema extends z.ZodType>(schema: Schema) => schema.nullish();

/**
 * Parses `input` with `schema`; the first problem becomes an INVALID_INPUT
 * error naming the field (`prefix.path`), never quoting the value.
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown, prefix?: string): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // zod reports at least one issue with every failure.
  const [issue = { path: [], message: 'is not valid' }] = result.error.issues;
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || null;
  throw new InvalidInputError(field ? `${field} ${issue.message}` : issue.message, field);
}
