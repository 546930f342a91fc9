import { CloseCode } from '../frames/close-codes.js';
import { GatewayError } from './errors.js';

/** A decoded client message: the event it is routed by (none → the catch-all) and its data. */
export interface WsDecoded {
  readonly event: string | undefined;
  readonly data: unknown;
}

/**
 * Turns messages into `{ event, data }` and back. `decode` throws when it cannot read a
 * message; a `GatewayError` with a `closeCode` picks the code used when the gateway closes
 * on undecodable input (default 1007).
 */
export interface WsCodec {
  readonly name: string;
  decode(data: string | Buffer, isBinary: boolean): WsDecoded;
  encode(event: string | undefined, data: unknown): string | Uint8Array;
}

/** A codec of your own; `name` shows in the route table. */
export interface WsCustomCodec {
  readonly name?: string;
  decode(data: string | Buffer, isBinary: boolean): WsDecoded;
  encode(event: string | undefined, data: unknown): string | Uint8Array;
}

export type WsCodecOption = 'json' | 'text' | 'binary' | WsCustomCodec;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function undecodable(message: string, closeCode: CloseCode, cause?: unknown): GatewayError {
  return new GatewayError('WSG_ERR_GATEWAY_UNDECODABLE', message, closeCode, cause === undefined ? undefined : { cause });
}

/** `{"event": string, "data": any}` in text (or UTF-8 binary) messages, as Nest's gateways speak. */
export const jsonCodec: WsCodec = Object.freeze({
  name: 'json',
  decode(data: string | Buffer, isBinary: boolean): WsDecoded {
    let text: string;
    if (isBinary) {
      try {
        text = strictUtf8.decode(data as Buffer);
      } catch (error) {
        throw undecodable('A binary message was not UTF-8 JSON', CloseCode.InvalidPayload, error);
      }
    } else {
      text = data as string;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw undecodable('The message is not JSON', CloseCode.InvalidPayload, error);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw undecodable('The message is not a JSON object {"event", "data"}', CloseCode.InvalidPayload);
    }
    const event = (parsed as { event?: unknown }).event;
    if (typeof event !== 'string' || event.length === 0) {
      throw undecodable('The message has no "event" string', CloseCode.InvalidPayload);
    }
    return { event, data: (parsed as { data?: unknown }).data };
  },
  encode(event: string | undefined, data: unknown): string {
    return JSON.stringify({ event, data });
  },
});

/** Text messages as strings, no events (every message goes to the catch-all). */
export const textCodec: WsCodec = Object.freeze({
  name: 'text',
  decode(data: string | Buffer, isBinary: boolean): WsDecoded {
    if (isBinary) throw undecodable('This gateway takes text messages only', CloseCode.UnsupportedData);
    return { event: undefined, data };
  },
  encode(_event: string | undefined, data: unknown): string | Uint8Array {
    if (typeof data === 'string' || data instanceof Uint8Array) return data;
    return JSON.stringify(data);
  },
});

/** Binary messages as Buffers, no events (every message goes to the catch-all). */
export const binaryCodec: WsCodec = Object.freeze({
  name: 'binary',
  decode(data: string | Buffer, isBinary: boolean): WsDecoded {
    if (!isBinary) throw undecodable('This gateway takes binary messages only', CloseCode.UnsupportedData);
    return { event: undefined, data };
  },
  encode(_event: string | undefined, data: unknown): Uint8Array {
    if (data instanceof Uint8Array) return data;
    if (typeof data === 'string') return Buffer.from(data, 'utf8');
    return Buffer.from(JSON.stringify(data), 'utf8');
  },
});

const BUILT_IN: Readonly<Record<string, WsCodec>> = Object.freeze({ json: jsonCodec, text: textCodec, binary: binaryCodec });

/** Whether a value can serve as a codec option; used by option validation. */
export function isCodecOption(value: unknown): value is WsCodecOption {
  if (typeof value === 'string') return Object.hasOwn(BUILT_IN, value);
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as WsCustomCodec).decode === 'function' &&
    typeof (value as WsCustomCodec).encode === 'function'
  );
}

export function resolveCodec(option: WsCodecOption): WsCodec {
  if (typeof option === 'string') return BUILT_IN[option]!;
  return Object.freeze({
    name: option.name ?? 'custom',
    decode: option.decode.bind(option),
    encode: option.encode.bind(option),
  });
}
