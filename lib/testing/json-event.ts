import type { ReceivedMessage } from '../frames/websocket-connection.js';

/** One message of the json codec: `{"event": …, "data": …}`, as Nest gateways speak it. */
export interface JsonEvent {
  event: string;
  data: unknown;
}

const parsed = new WeakMap<ReceivedMessage, JsonEvent | null>();

/** The json-codec reading of a text message, or null when it is not one; parsed once. */
export function readJsonEvent(message: ReceivedMessage): JsonEvent | null {
  let event = parsed.get(message);
  if (event !== undefined) return event;
  event = null;
  if (!message.isBinary) {
    let value: unknown;
    try {
      value = JSON.parse(message.data as string);
    } catch {
      // Not JSON: an expect() never matches it, but next() still returns it.
      value = null;
    }
    if (typeof value === 'object' && value !== null && typeof (value as JsonEvent).event === 'string') {
      event = { event: (value as JsonEvent).event, data: (value as JsonEvent).data };
    }
  }
  parsed.set(message, event);
  return event;
}

/** A short line describing a message, for error messages. */
export function previewMessage(message: ReceivedMessage): string {
  if (message.isBinary) return `<binary ${(message.data as Buffer).length} bytes>`;
  const text = message.data as string;
  return text.length > 80 ? `${JSON.stringify(text.slice(0, 80))}…` : JSON.stringify(text);
}
