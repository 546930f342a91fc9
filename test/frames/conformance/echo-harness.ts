import { expect } from '@jest/globals';
import type { WsgError } from '../../../lib/frames/errors.js';
import type { CloseInfo, WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { WsServer, type WsServerOptions } from '../../../lib/frames/websocket-server.js';
import { expectWsgError } from '../../support/expect-wsg-error.js';
import { RawPeer, describeFrames, type RawConnectOptions } from '../../support/raw-peer.js';

/** The engine's side of one raw-peer connection, with what it reported. */
export interface ServerSide {
  conn: WebSocketConnection;
  errors: WsgError[];
  /** Errors thrown by the echo's send() (e.g. SendQueueFullError); expected empty. */
  sendErrors: Error[];
  /** The first 'error' event; rejects if the connection closes without one. */
  firstError: Promise<WsgError>;
  closeInfo: Promise<CloseInfo>;
}

export type ServerMode =
  /** Text back as text, binary as binary (the Autobahn fuzzingclient target). */
  | 'echo'
  /** No 'message' listener: messages queue for receive(). */
  | 'pull';

/**
 * A WsServer on 127.0.0.1:0 plus the raw peers connected to it. `close()` tears down
 * everything it started so Jest exits without open handles.
 */
export class EchoHarness {
  readonly sides: ServerSide[] = [];
  private readonly peers: RawPeer[] = [];
  private readonly pending: ServerSide[] = [];
  private readonly waiters: Array<(side: ServerSide) => void> = [];

  private constructor(
    readonly server: WsServer,
    readonly port: number,
  ) {}

  static async start(options: Omit<WsServerOptions, 'port' | 'server'> = {}, mode: ServerMode = 'echo'): Promise<EchoHarness> {
    const server = new WsServer({ ...options, port: 0 });
    const address = await server.listen();
    const harness = new EchoHarness(server, address.port);
    server.on('connection', (conn: WebSocketConnection) => harness.onConnection(conn, mode));
    return harness;
  }

  private onConnection(conn: WebSocketConnection, mode: ServerMode): void {
    const errors: WsgError[] = [];
    const sendErrors: Error[] = [];
    const firstError = new Promise<WsgError>((resolve, reject) => {
      conn.on('error', (error: WsgError) => {
        errors.push(error);
        resolve(error);
      });
      void conn.closed.then((info) => reject(new Error(`connection closed without an 'error' event: ${JSON.stringify(info)}`)));
    });
    // Not every test awaits it; an unobserved rejection must not fail the run.
    firstError.catch(() => undefined);
    if (mode === 'echo') {
      conn.on('message', (data: string | Buffer, isBinary: boolean) => {
        if (!conn.isOpen) return;
        try {
          conn.send(data, { binary: isBinary });
        } catch (error) {
          // A throw here would escape through the socket's 'data' handler; record it instead.
          sendErrors.push(error as Error);
        }
      });
    }
    const side: ServerSide = { conn, errors, sendErrors, firstError, closeInfo: conn.closed };
    this.sides.push(side);
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(side);
    else this.pending.push(side);
  }

  /** The engine side of the next connection to complete its handshake. */
  nextSide(): Promise<ServerSide> {
    const ready = this.pending.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Connects a raw peer and returns it with the engine's side of the connection. */
  async connect(options: RawConnectOptions = {}): Promise<{ peer: RawPeer; side: ServerSide }> {
    const peer = await RawPeer.connect(this.port, options);
    this.peers.push(peer);
    const side = await this.nextSide();
    return { peer, side };
  }

  async close(): Promise<void> {
    for (const peer of this.peers) peer.destroy();
    for (const side of this.sides) side.conn.terminate();
    await this.server.close();
  }
}

export interface ExpectedFailure {
  closeCode: number;
  errorClass: abstract new (...args: never[]) => WsgError;
  code: `WSG_ERR_${string}`;
}

/**
 * Asserts the engine failed the connection (RFC 6455 §7.1.7): the peer gets one close frame
 * with `closeCode`, the engine reports `errorClass`/`code`, nothing follows the close frame
 * and the server closes TCP first.
 */
export async function expectFailure(peer: RawPeer, side: ServerSide, expected: ExpectedFailure): Promise<void> {
  const close = await peer.closeFrame();
  expect(close.code).toBe(expected.closeCode);
  const error = await side.firstError;
  expect(error).toBeInstanceOf(expected.errorClass);
  expectWsgError(error, expected.code, expected.closeCode);
  await peer.closed;
  expect(describeFrames(peer.framesAfterClose())).toBe('(none)');
  expect(peer.remoteClosedFirst).toBe(true);
  expect(side.errors).toHaveLength(1);
}

/** Asserts a clean exchange: the peer sends close `code`, the engine echoes it and closes TCP. */
export async function expectCleanClose(peer: RawPeer, side: ServerSide, code = 1000): Promise<void> {
  await peer.sendClose(code);
  const close = await peer.closeFrame();
  expect(close.code).toBe(code);
  await peer.closed;
  expect(peer.remoteClosedFirst).toBe(true);
  const info = await side.closeInfo;
  expect(info).toMatchObject({ code, wasClean: true });
  expect(info.error).toBeUndefined();
  expect(side.errors).toEqual([]);
  expect(side.sendErrors).toEqual([]);
}

/** Payload of `length` bytes with a recognisable pattern. */
export function patterned(length: number, seed = 0): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Rejects with `message` if `promise` has not settled within `ms` (for promptness claims only). */
export function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Header (with mask key) of a masked client frame declaring `length`, and no payload. The length
 * takes its minimal form (§5.2): the parser refuses a longer one with 1002.
 */
export function headerOnly(opcode: number, length: number, fin = true): Buffer {
  const lengthBytes = length <= 125 ? 0 : length <= 0xffff ? 2 : 8;
  const out = Buffer.alloc(2 + lengthBytes + 4);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (lengthBytes === 0) out[1] = 0x80 | length;
  else if (lengthBytes === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    out.writeUInt32BE(length >>> 0, 6);
  }
  out.set([0x11, 0x22, 0x33, 0x44], 2 + lengthBytes);
  return out;
}

/**
 * Pauses the peer's reading and sends 1 MiB messages from the engine until the socket's own
 * buffer stays over its high-water mark across I/O turns: the kernel buffers are full and the
 * socket will not drain until the peer reads. Returns the bytes sent.
 */
export async function fillUntilSocketFull(peer: RawPeer, side: ServerSide): Promise<number> {
  peer.pause();
  const socket = side.conn.transport;
  const chunk = Buffer.alloc(1024 * 1024, 0x2a);
  let sent = 0;
  let settled = 0;
  while (settled < 4) {
    if (sent > 256 * chunk.length) throw new Error(`socket never stayed full after ${sent} bytes`);
    if (socket.writableLength < 2 * chunk.length) {
      side.conn.sendBytes(chunk);
      sent += chunk.length;
      settled = 0;
    } else {
      settled++;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(socket.writableNeedDrain).toBe(true);
  return sent;
}
