/** Typed errors of the mutations, placed next to the field they name, or for the whole form. */
type Field = 'name' | 'scopes' | 'expires' | 'note';
export type FieldErrors = Partial<Record<Field | 'form', string>>;

const FIELDS: readonly string[] = ['name', 'scopes', 'expires', 'note'];

interface ErrorResult {
  __typename?: string;
  message?: string;
  field?: string | null;
}

export function fieldErrors(result: ErrorResult): FieldErrors {
  const message = result.message ?? 'Something went wrong.';
  switch (result.__typename) {
    case 'ScopesTooBroadError':
    case 'UnknownScopeError':
      return { scopes: message };
    case 'DuplicateTokenNameError':
      return { name: message };
    case 'ExpiryTooSoonError':
      return { expires: message };
    case 'InvalidInputError':
      return result.field && FIELDS.includes(result.field) ? { [result.field]: message } : { form: message };
    default:
      return { form: message };
  }
}
