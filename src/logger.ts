import { pino, stdSerializers, type Logger } from 'pino';
import { redact } from './domain/errors.ts';

export type { Logger };

/**
 * JSON logs on stdout. Authorization headers and token strings are never
 * passed to the logger; the redaction list is a second line of defence.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'tessera' },
    redact: { paths: ['authorization', 'headers.authorization', 'secret', 'token', '*.secret'], censor: '[redacted]' },
    serializers: { err: serializeError },
  });
}

/** An error as pino writes it, with any long run in its message (where a token string could hide) cut short, in the stack too. */
function serializeError(error: Error) {
  const serialized = stdSerializers.err(error);
  const message = redact(serialized.message);
  return { ...serialized, message, stack: serialized.stack.replace(serialized.message, message) };
}
