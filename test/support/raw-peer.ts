import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { encodeFrame } from '../../lib/frames/frame-encoder.js';
import { Opcode } from '../../lib/frames/opcodes.js';

/**
 * A raw TCP WebSocket peer for tests. It speaks just enough HTTP to complete an upgrade by
 * hand and otherwise sends exactly the bytes it is told to: well-formed frames, malformed
 * frames, one byte per tick, or arbitrary chops. Frames the other side sends are parsed by
 * an independent decoder (not the engine's parser) into a list.
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const RSV2 = 0x20;
const RSV3 = 0x10;

export function acceptKeyFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export interface RawFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  /** Unmasked payload. */
  payload: Buffer;
}

/** A close frame as decoded by the raw peer: code undefined for an empty payload. */
export interface RawClose {
  code: number | undefined;
  reason: Buffer;
  frame: RawFrame;
}

export interface HttpHead {
  statusLine: string;
  status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
}

export interface HttpRequestHead {
  requestLine: string;
  method: string;
  path: string;
  headers: Record<string, string>;
}

const HEAD_END = Buffer.from('\r\n\r\n');

function parseHeaderLines(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

function parseResponseHead(text: string): HttpHead {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  return { statusLine, status, headers: parseHeaderLines(lines) };
}

function parseRequestHead(text: string): HttpRequestHead {
  const [requestLine = '', ...lines] = text.split('\r\n');
  const [method = '', path = ''] = requestLine.split(' ');
  return { requestLine, method, path, headers: parseHeaderLines(lines) };
}

/** Reads from `socket` until the end of an HTTP head; resolves with the head text and the bytes after it. */
function readHead(socket: Socket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(HEAD_END);
      if (end === -1) return;
      cleanup();
      socket.pause();
      resolve({ head: buffered.subarray(0, end).toString('latin1'), rest: buffered.subarray(end + HEAD_END.length) });
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`socket closed before an HTTP head arrived; got ${JSON.stringify(buffered.toString('latin1'))}`));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

export function closePayload(code?: number, reason: string | Uint8Array = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const reasonBytes = typeof reason === 'string' ? Buffer.from(reason, 'utf8') : Buffer.from(reason);
  const payload = Buffer.alloc(2 + reasonBytes.length);
  payload.writeUInt16BE(code, 0);
  reasonBytes.copy(payload, 2);
  return payload;
}

export interface RawFrameOptions {
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** Defaults to the role's rule: a client peer masks, a server peer does not. */
  mask?: boolean | Uint8Array;
}

/** Independent RFC 6455 §5.2 decoder for what the engine sends. */
class RawFrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  error: string | null = null;

  push(chunk: Buffer, onFrame: (frame: RawFrame) => void): void {
    if (this.error !== null) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const masked = (b[1]! & 0x80) !== 0;
      let length = b[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        const high = b.readUInt32BE(2);
        if (high > 0x001fffff) {
          this.error = `unreadable 64-bit length, high word ${high}`;
          return;
        }
        length = high * 0x1_0000_0000 + b.readUInt32BE(6);
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (b.length < at + length) return;
      const payload = Buffer.from(b.subarray(at, at + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= b[maskAt + (i & 3)]!;
      this.buffer = b.subarray(at + length);
      onFrame({
        fin: (b[0]! & 0x80) !== 0,
        rsv1: (b[0]! & 0x40) !== 0,
        rsv2: (b[0]! & 0x20) !== 0,
        rsv3: (b[0]! & 0x10) !== 0,
        opcode: b[0]! & 0x0f,
        masked,
        payload,
      });
    }
  }
}

export interface RawPeerOptions {
  /** Answer every ping with a pong carrying the same payload. @defaultValue false */
  autoPong?: boolean;
}

/**
 * One end of an upgraded TCP connection, driven by hand. `role` is the role this peer
 * plays: 'client' masks what it sends and expects unmasked frames; 'server' the reverse.
 */
export class RawPeer {
  /** Every frame received, in order. */
  readonly frames: RawFrame[] = [];
  /** Resolves when TCP is fully closed. */
  readonly closed: Promise<void>;
  /** True once the other side ended TCP (FIN) before this peer ended or destroyed it. */
  remoteClosedFirst = false;
  /** Bytes received after the handshake, in total. */
  bytesReceived = 0;

  private readonly decoder = new RawFrameDecoder();
  private cursor = 0;
  private localEnded = false;
  private isClosed = false;
  private readonly wakers = new Set<() => void>();
  private readonly autoPong: boolean;

  constructor(
    readonly socket: Socket,
    readonly role: 'client' | 'server',
    leftover: Buffer,
    options: RawPeerOptions = {},
  ) {
    this.autoPong = options.autoPong ?? false;
    socket.setNoDelay(true);
    this.closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      });
    });
    // Resets are expected in failure tests; the 'close' event is what tests wait on.
    socket.on('error', () => undefined);
    socket.on('end', () => {
      if (!this.localEnded) this.remoteClosedFirst = true;
      this.wake();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (leftover.length > 0) this.onData(leftover);
    socket.resume();
  }

  /** Server-role frames of the engine are unmasked and client-role masked; this checks it. */
  get decodeError(): string | null {
    return this.decoder.error;
  }

  get isTcpClosed(): boolean {
    return this.isClosed;
  }

  private onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    this.decoder.push(chunk, (frame) => {
      this.frames.push(frame);
      if (this.autoPong && frame.opcode === Opcode.Ping && !this.socket.destroyed && this.socket.writable) {
        this.socket.write(this.encode(Opcode.Pong, frame.payload, {}));
      }
    });
    this.wake();
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }

  /** Waits until `check` returns a value (re-checked on every frame and on close). */
  waitUntil<T>(check: () => T | undefined, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): void => {
        let value: T | undefined;
        try {
          value = check();
        } catch (error) {
          this.wakers.delete(attempt);
          reject(error as Error);
          return;
        }
        if (value !== undefined) {
          this.wakers.delete(attempt);
          resolve(value);
          return;
        }
        if (this.isClosed) {
          this.wakers.delete(attempt);
          reject(new Error(`TCP closed while waiting for ${what}; frames seen: ${describeFrames(this.frames)}`));
        }
      };
      this.wakers.add(attempt);
      attempt();
    });
  }

  // ---- reading ---------------------------------------------------------------------------

  /** The next frame not yet taken by nextFrame()/closeFrame(). */
  nextFrame(): Promise<RawFrame> {
    return this.waitUntil(() => (this.cursor < this.frames.length ? this.frames[this.cursor++] : undefined), 'a frame');
  }

  /** The next data message (fragments joined), skipping control frames. */
  async nextMessage(): Promise<{ opcode: number; payload: Buffer; frames: RawFrame[] }> {
    const parts: RawFrame[] = [];
    for (;;) {
      const frame = await this.nextFrame();
      if ((frame.opcode & 0x8) !== 0) {
        if (frame.opcode === Opcode.Close) throw new Error(`expected a message, got close ${describeFrames([frame])}`);
        continue;
      }
      parts.push(frame);
      if (frame.fin) {
        return { opcode: parts[0]!.opcode, payload: Buffer.concat(parts.map((f) => f.payload)), frames: parts };
      }
    }
  }

  /** Waits for the next close frame; frames before it are skipped (see `frames`). */
  async closeFrame(): Promise<RawClose> {
    for (;;) {
      const frame = await this.nextFrame();
      if (frame.opcode !== Opcode.Close) continue;
      return {
        code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined,
        reason: frame.payload.subarray(2),
        frame,
      };
    }
  }

  /** Frames received after the first close frame (should be none). */
  framesAfterClose(): RawFrame[] {
    const at = this.frames.findIndex((f) => f.opcode === Opcode.Close);
    return at === -1 ? [] : this.frames.slice(at + 1);
  }

  // ---- writing ---------------------------------------------------------------------------

  encode(opcode: number, payload: Uint8Array, options: RawFrameOptions): Buffer {
    const mask = options.mask ?? this.role === 'client';
    const frame = encodeFrame(opcode, payload, {
      ...(options.fin !== undefined ? { fin: options.fin } : {}),
      ...(options.rsv1 !== undefined ? { rsv1: options.rsv1 } : {}),
      mask,
    });
    if (options.rsv2 === true) frame[0]! |= RSV2;
    if (options.rsv3 === true) frame[0]! |= RSV3;
    return frame;
  }

  /** Writes raw bytes; resolves once handed to the OS (or at once if TCP is gone). */
  write(bytes: Uint8Array): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Writes one byte per event-loop turn. */
  async drip(bytes: Uint8Array): Promise<void> {
    for (let i = 0; i < bytes.length; i++) {
      if (this.socket.destroyed) return;
      await this.write(bytes.subarray(i, i + 1));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Writes `bytes` in pieces of `size` bytes, one per event-loop turn. */
  async chop(bytes: Uint8Array, size: number): Promise<void> {
    for (let i = 0; i < bytes.length; i += size) {
      if (this.socket.destroyed) return;
      await this.write(bytes.subarray(i, i + size));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  frame(opcode: number, payload: Uint8Array | string = Buffer.alloc(0), options: RawFrameOptions = {}): Buffer {
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    return this.encode(opcode, bytes, options);
  }

  sendFrame(opcode: number, payload: Uint8Array | string = Buffer.alloc(0), options: RawFrameOptions = {}): Promise<void> {
    return this.write(this.frame(opcode, payload, options));
  }

  sendText(text: string | Uint8Array, options: RawFrameOptions = {}): Promise<void> {
    return this.sendFrame(Opcode.Text, text, options);
  }

  sendBinary(bytes: Uint8Array, options: RawFrameOptions = {}): Promise<void> {
    return this.sendFrame(Opcode.Binary, bytes, options);
  }

  ping(payload: Uint8Array | string = Buffer.alloc(0)): Promise<void> {
    return this.sendFrame(Opcode.Ping, payload);
  }

  pong(payload: Uint8Array | string = Buffer.alloc(0)): Promise<void> {
    return this.sendFrame(Opcode.Pong, payload);
  }

  sendClose(code?: number, reason: string | Uint8Array = ''): Promise<void> {
    return this.sendFrame(Opcode.Close, closePayload(code, reason));
  }

  /** Stops reading (the kernel buffers fill, then the sender sees back-pressure). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Half-closes: sends FIN. */
  end(): void {
    this.localEnded = true;
    this.socket.end();
  }

  destroy(): void {
    this.localEnded = true;
    this.socket.destroy();
  }

  /** Connects to 127.0.0.1:port and completes the upgrade by hand; rejects on a non-101 answer. */
  static async connect(port: number, options: RawConnectOptions = {}): Promise<RawPeer> {
    const key = options.key ?? randomBytes(16).toString('base64');
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const headers: Record<string, string> = {
      Host: `127.0.0.1:${port}`,
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
      ...options.headers,
    };
    let request = `GET ${options.path ?? '/'} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) request += `${name}: ${value}\r\n`;
    socket.write(request + '\r\n');
    if (options.afterHead !== undefined) socket.write(options.afterHead);
    const { head, rest } = await readHead(socket);
    const response = parseResponseHead(head);
    if (response.status !== 101) {
      socket.destroy();
      throw Object.assign(new Error(`expected 101, got ${response.statusLine}`), { response });
    }
    if (response.headers['sec-websocket-accept'] !== acceptKeyFor(key)) {
      socket.destroy();
      throw new Error(`wrong Sec-WebSocket-Accept: ${response.headers['sec-websocket-accept']}`);
    }
    const peer = new RawPeer(socket, 'client', rest, options);
    peer.response = response;
    return peer;
  }

  /** The 101 response (client-role peers). */
  response: HttpHead | undefined;
  /** The upgrade request (server-role peers). */
  request: HttpRequestHead | undefined;
}

export interface RawConnectOptions extends RawPeerOptions {
  path?: string;
  /** Extra or overriding request headers. */
  headers?: Record<string, string>;
  key?: string;
  /** Bytes written right after the request head, in the same flight (frames before the 101). */
  afterHead?: Uint8Array;
}

export function describeFrames(frames: readonly RawFrame[]): string {
  if (frames.length === 0) return '(none)';
  return frames
    .map((f) => {
      const code = f.opcode === Opcode.Close && f.payload.length >= 2 ? ` code=${f.payload.readUInt16BE(0)}` : '';
      return `[op=${f.opcode}${f.fin ? '' : ' !fin'}${f.rsv1 ? ' rsv1' : ''} len=${f.payload.length}${code}]`;
    })
    .join(' ');
}

/**
 * Sends a hand-written HTTP request and reads the whole answer (until the server ends).
 * For handshake refusals, where no upgrade happens.
 */
export async function rawHttpExchange(port: number, request: string): Promise<HttpHead & { body: string; raw: string }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(request);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const raw = Buffer.concat(chunks).toString('latin1');
  const end = raw.indexOf('\r\n\r\n');
  const head = parseResponseHead(end === -1 ? raw : raw.slice(0, end));
  return { ...head, body: end === -1 ? '' : raw.slice(end + 4), raw };
}

export type RawHandshakeAnswer =
  | {
      kind: 'accept';
      headers?: Record<string, string>;
      acceptKey?: string;
      /** Bytes (e.g. frames) written in the same write as the 101, before the client could react. */
      trailing?: Uint8Array;
    }
  /** Any bytes as the whole response head (without the final blank line). */
  | { kind: 'raw'; head: string }
  /** Read the request and never answer. */
  | { kind: 'silent' };

/**
 * A raw server-side peer for testing the engine's CLIENT role: a net server that completes
 * the handshake by hand (or answers wrongly, or not at all) and then sends arbitrary frames.
 */
export class RawServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly accepted: RawPeer[] = [];
  private readonly acceptedWaiters: Array<(peer: RawPeer) => void> = [];
  readonly requests: HttpRequestHead[] = [];

  private constructor(private readonly answer: (request: HttpRequestHead) => RawHandshakeAnswer, private readonly peerOptions: RawPeerOptions) {
    this.server = createServer((socket) => this.onSocket(socket));
  }

  static async listen(
    answer: (request: HttpRequestHead) => RawHandshakeAnswer = () => ({ kind: 'accept' }),
    peerOptions: RawPeerOptions = {},
  ): Promise<RawServer> {
    const raw = new RawServer(answer, peerOptions);
    await new Promise<void>((resolve) => raw.server.listen(0, '127.0.0.1', resolve));
    return raw;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  private async onSocket(socket: Socket): Promise<void> {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let head: string;
    let rest: Buffer;
    try {
      ({ head, rest } = await readHead(socket));
    } catch {
      // The client gave up before sending a full request (e.g. its handshake timed out).
      socket.destroy();
      return;
    }
    const request = parseRequestHead(head);
    this.requests.push(request);
    const answer = this.answer(request);
    if (answer.kind === 'silent') {
      socket.resume();
      return;
    }
    if (answer.kind === 'raw') {
      socket.write(answer.head + '\r\n\r\n');
    } else {
      const key = request.headers['sec-websocket-key'] ?? '';
      let response =
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${answer.acceptKey ?? acceptKeyFor(key)}\r\n`;
      for (const [name, value] of Object.entries(answer.headers ?? {})) response += `${name}: ${value}\r\n`;
      const head = Buffer.from(response + '\r\n', 'latin1');
      socket.write(answer.trailing === undefined ? head : Buffer.concat([head, answer.trailing]));
    }
    const peer = new RawPeer(socket, 'server', rest, this.peerOptions);
    peer.request = request;
    const waiter = this.acceptedWaiters.shift();
    if (waiter !== undefined) waiter(peer);
    else this.accepted.push(peer);
  }

  /** The next connection that got past the handshake answer. */
  nextPeer(): Promise<RawPeer> {
    const ready = this.accepted.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.acceptedWaiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
