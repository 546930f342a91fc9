import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { isValidWireCloseCode, CloseCode } from '../../../lib/frames/close-codes.js';
import { WsgError } from '../../../lib/frames/errors.js';
import { encodeFrame } from '../../../lib/frames/frame-encoder.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { WebSocketConnection, type CloseInfo } from '../../../lib/frames/websocket-connection.js';
import { encodeSequence, PARSER_ERRORS, parserFor, rawFrameArb, rawFrameBytes, RecordingSink, sequenceArb } from './frame-arbitraries.js';

// The parser's guarantees, end to end: fuzzed bytes written by a real TCP peer into a server
// connection that echoes what it receives. Whatever arrives, the connection ends with a close
// code of RFC 6455's set, a refusal is a typed error whose close code is the one sent, and what
// the engine wrote back is well-formed framing.

const MAX_MESSAGE_SIZE = 4096;
let server: Server;
let port: number;
const accepted: Socket[] = [];
let onAccept: ((socket: Socket) => void) | null = null;

beforeAll(async () => {
  server = createServer((socket) => {
    if (onAccept !== null) onAccept(socket);
    else accepted.push(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function nextServerSocket(): Promise<Socket> {
  const ready = accepted.shift();
  if (ready !== undefined) return Promise.resolve(ready);
  return new Promise((resolve) => {
    onAccept = (socket) => {
      onAccept = null;
      resolve(socket);
    };
  });
}

interface Outcome {
  info: CloseInfo;
  /** What the engine wrote, as its peer's (client-role) parser read it. */
  received: RecordingSink;
  /** Largest message the connection delivered, in bytes. */
  largestMessage: number;
}

/** Writes `bytes` then a valid close frame into a server connection over TCP, ends, and waits for both sides to close. */
async function runConnection(bytes: Buffer): Promise<Outcome> {
  const client = connect({ host: '127.0.0.1', port });
  client.on('error', () => undefined);
  const serverSocket = await nextServerSocket();
  const conn = WebSocketConnection.fromPartiallyRead(serverSocket, null, {
    role: 'server',
    maxMessageSize: MAX_MESSAGE_SIZE,
    closeTimeout: 500,
  });
  conn.on('error', () => undefined);
  let largestMessage = 0;
  conn.on('message', (data: string | Buffer, isBinary: boolean) => {
    largestMessage = Math.max(largestMessage, Buffer.byteLength(data));
    if (conn.isOpen) conn.send(data, { binary: isBinary });
  });
  const received = new RecordingSink();
  // Its own limit is far above anything the engine may send back.
  const reader = parserFor('client', received, { maxMessageSize: 1 << 20, maxFrameSize: 1 << 20 });
  client.on('data', (chunk: Buffer) => reader.push(chunk));
  const clientClosed = once(client, 'close');
  await once(client, 'connect');
  client.write(bytes);
  client.end(encodeFrame(Opcode.Close, Buffer.from([0x03, 0xe8]), { mask: true }));
  const info = await conn.closed;
  await clientClosed;
  return { info, received, largestMessage };
}

/** Close codes a connection may end with: one sendable on the wire, or 1005/1006 reported locally. */
function isEndingCode(code: number): boolean {
  return isValidWireCloseCode(code) || code === CloseCode.NoStatus || code === CloseCode.Abnormal;
}

function checkOutcome({ info, received, largestMessage }: Outcome): void {
  expect(isEndingCode(info.code)).toBe(true);
  expect(largestMessage).toBeLessThanOrEqual(MAX_MESSAGE_SIZE);
  // The engine's output parses cleanly in the client role: no malformed frame ever leaves it.
  expect(received.errors).toEqual([]);
  const closes = received.events.filter((e) => e[0] === 'close');
  expect(closes.length).toBeLessThanOrEqual(1);
  if (info.error === undefined) return;
  expect(info.error).toBeInstanceOf(WsgError);
  const documented = PARSER_ERRORS[info.error.code];
  if (documented === undefined) return;
  // A refusal by the parser: its class, its close code, and that code in the close frame sent.
  expect(info.error).toBeInstanceOf(documented.errorClass);
  expect(info.error.closeCode).toBe(documented.closeCode);
  if (closes.length === 1) expect(closes[0]![1]).toBe(documented.closeCode);
}

const fuzzArb = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
  fc.array(rawFrameArb, { minLength: 1, maxLength: 5 }).map((frames) => Buffer.concat(frames.map(rawFrameBytes))),
  sequenceArb
    .filter((s) => s.messages.every((m) => m.payload.length <= MAX_MESSAGE_SIZE))
    .map((s) => encodeSequence({ ...s, role: 'server' }).bytes),
);

describe('RFC 6455 §7.1.7 a server connection over TCP under fuzzed input', () => {
  it('ends with a close code of the RFC set, delivers nothing over maxMessageSize, reports refusals as typed errors with the close code it sent, and writes only well-formed frames', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzArb, async (bytes) => {
        checkOutcome(await runConnection(bytes));
      }),
      { numRuns: 80 },
    );
  });
});
