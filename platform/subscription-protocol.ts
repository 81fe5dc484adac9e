// The subscription protocol this product adds on top of graphql-ws (and graphql-sse, multipart):
// the extension keys the gateway and subgraphs exchange, the close codes we send, the error codes
// a subscription ends with, and cursors. Both sides import it, so it is written once.
import { MessageType } from 'graphql-ws';

/** Keys in subscribe-message `extensions` (and the gateway's connection_init payload to a subgraph). */
export const SubscriptionExtension = {
  /** The gateway's signature: of no one in connection_init, of the caller in each subscribe. */
  GatewayIdentity: 'gatewayIdentity',
  /** The request's correlation id (beside the gateway's signature). */
  CorrelationId: 'correlationId',
  /** A resume cursor from the client; each event's cursor in the results. */
  Cursor: 'cursor',
} as const;

/** Close codes this product sends itself (graphql-ws's own protocol failures are its `CloseCode`). */
export enum SubscriptionCloseCode {
  /** A subgraph goes away (SIGTERM): the gateway ends its subscriptions with a resume cursor. */
  GoingAway = 1001,
  /** The gateway shuts down: clients reconnect (to another instance) and resume from their last cursor. */
  ServiceRestart = 1012,
}

/** The `extensions.code` a subscription can end with, beside the domain codes of platform/errors.ts. */
export type SubscriptionErrorCode = 'SUBSCRIPTION_OVERFLOW' | 'SUBSCRIPTION_INTERRUPTED' | 'TOO_MANY_SUBSCRIPTIONS';

/** The client fell behind: resubscribe with the cursor it was told. */
export const SUBSCRIPTION_OVERFLOW = 'SUBSCRIPTION_OVERFLOW' satisfies SubscriptionErrorCode;
/** The upstream connection dropped (restart, deploy): resubscribe with the cursor it was told. */
export const SUBSCRIPTION_INTERRUPTED = 'SUBSCRIPTION_INTERRUPTED' satisfies SubscriptionErrorCode;
/** The connection holds its limit of subscriptions. */
export const TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS' satisfies SubscriptionErrorCode;

/** Cursors are the event's global position as a decimal string. */
export function formatCursor(position: number): string {
  return String(position);
}

/** Parse a client's cursor: null when absent; throws on anything but a non-negative integer. */
export function parseCursor(cursor: unknown): number | null {
  if (cursor === undefined || cursor === null || cursor === '') return null;
  const text = typeof cursor === 'number' ? String(cursor) : cursor;
  if (typeof text !== 'string' || !/^\d{1,15}$/.test(text)) {
    throw new Error(`The cursor ${JSON.stringify(cursor)} is not valid: pass back the extensions.cursor of an event.`);
  }
  return Number(text);
}

/**
 * The framing of graphql-ws `next` messages for subscription `id`, around a result already
 * serialized (once, for every client that receives it).
 */
export function graphqlWsNextFrame(id: string): (payloadJson: string) => string {
  const prefix = `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`;
  return (payloadJson) => `${prefix}${payloadJson}}`;
}
