import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
import './types/enums.ts';
import './types/errors.ts';
import './types/token.ts';
import './types/token-queries.ts';
import './types/history.ts';
import './types/viewer.ts';
import './types/node.ts';
import './types/introspection.ts';
import './types/webhook.ts';
import './mutations/generate-token.ts';
import './mutations/invalidate-tokens.ts';
import './mutations/revoke-token.ts';
import './mutations/edit-token.ts';
import './mutations/rotate-token.ts';
import './mutations/create-webhook.ts';
import './mutations/delete-webhook.ts';
import './subscriptions/token-changes.ts';

export const schema = builder.toSchema();

/** The text committed as schema.graphql (sorted, so that moving code around does not churn it). */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
