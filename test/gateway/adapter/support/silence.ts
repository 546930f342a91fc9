import type { WsTestClient } from '../../support/ws-client.js';

/**
 * True when no message reached `client` for `ms` milliseconds. For asserting that something
 * is NOT sent there is no event to wait on: a bounded wait is the assertion. Nothing may be
 * waiting on `client.next()` meanwhile (it would take the message).
 */
export async function nothingWithin(client: WsTestClient, ms: number): Promise<boolean> {
  const before = client.pending;
  await new Promise((resolve) => setTimeout(resolve, ms));
  return client.pending === before && before === 0;
}
