import WebSocket from 'ws';

export interface Received {
  data: string | Buffer;
  isBinary: boolean;
}

export interface Refused {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A `ws` (npm) client with an inbox: messages queue until a test takes them, waits are on
 * events (no sleeps), and an upgrade refusal resolves with the HTTP status and body.
 */
export class WsTestClient {
  private readonly inbox: Received[] = [];
  private readonly waiters: Array<(m: Received) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const message: Received = { data: isBinary ? data : data.toString('utf8'), isBinary };
      const waiter = this.waiters.shift();
      if (waiter !== undefined) waiter(message);
      else this.inbox.push(message);
    });
    this.closed = new Promise((resolve) => socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
  }

  static connect(url: string, options: { headers?: Record<string, string>; protocols?: string[]; origin?: string; autoPong?: boolean } = {}): Promise<WsTestClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers, origin: options.origin, autoPong: options.autoPong ?? true });
      socket.once('open', () => resolve(new WsTestClient(socket)));
      socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => reject(Object.assign(new Error(`refused ${res.statusCode}`), { refused: { status: res.statusCode ?? 0, body, headers: res.headers } })));
      });
      socket.once('error', (error) => reject(error));
    });
  }

  /** The refusal of an upgrade that must not succeed. */
  static async refused(url: string, options: { headers?: Record<string, string>; protocols?: string[]; origin?: string } = {}): Promise<Refused> {
    try {
      const client = await WsTestClient.connect(url, options);
      client.socket.terminate();
    } catch (error) {
      const refused = (error as { refused?: Refused }).refused;
      if (refused !== undefined) return refused;
      throw error;
    }
    throw new Error(`expected ${url} to be refused, got a 101`);
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  emit(event: string, data?: unknown): void {
    this.socket.send(JSON.stringify({ event, data }));
  }

  send(data: string | Buffer, binary?: boolean): void {
    this.socket.send(data, { binary: binary ?? typeof data !== 'string' });
  }

  next(): Promise<Received> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async nextJson<T = unknown>(): Promise<{ event: string; data: T }> {
    const m = await this.next();
    return JSON.parse(typeof m.data === 'string' ? m.data : m.data.toString('utf8')) as { event: string; data: T };
  }

  /** The next n JSON messages, in order. */
  async takeJson(n: number): Promise<Array<{ event: string; data: unknown }>> {
    const out: Array<{ event: string; data: unknown }> = [];
    for (let i = 0; i < n; i++) out.push(await this.nextJson());
    return out;
  }

  get pending(): number {
    return this.inbox.length;
  }

  async close(code?: number, reason?: string): Promise<{ code: number; reason: string }> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(code, reason);
    else if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    return this.closed;
  }
}
