import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks headers of one attempt: the event's id (the same on
 * every attempt), the attempt's time and the signature over
 * `${id}.${timestamp}.${body}` with the webhook's secret. The timestamp is
 * the machine's real time, not the domain clock: receivers compare it with
 * their own clocks to refuse replays.
 */
export function signedHeaders(secret: string, eventId: string, body: string, at = new Date()): Record<string, string> {
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(eventId, at, body),
  };
}
