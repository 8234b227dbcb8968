import { pino, type Logger } from 'pino';

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
  });
}
