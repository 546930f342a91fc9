import { describe, it, expect, afterEach } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:net';
import { config as rxjsConfig } from 'rxjs';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { WsTestClient } from '../support/ws-client.js';
import { ADAPTERS, freePort, startAdapterApp, type AdapterApp, type AdapterName } from './support/adapter-app.js';
import { Journal } from './support/journal.js';
import { DifferGateway, FirstSharedGateway, SecondSharedGateway, UntrackedGateway, busyPortGateways } from './support/difference-gateways.js';
import { LogWatch } from './support/log-watch.js';
import { nothingWithin } from './support/silence.js';

// README "Migrating from @nestjs/platform-ws" → "What differs, and why": each row, shown on
// WsGateAdapter and, where the row contrasts the two, on WsAdapter (@nestjs/platform-ws) too.
// Apps run one at a time: Nest's Logger sends every adapter's lines to the last app's logger.

const adapterOf = new Map(ADAPTERS);

async function withApp(
  name: AdapterName,
  providers: Array<new (...args: never[]) => unknown>,
  run: (started: AdapterApp, log: LogWatch) => Promise<void>,
  adapterOptions?: Record<string, unknown>,
): Promise<void> {
  const log = new LogWatch();
  const started = await startAdapterApp('express', { adapter: adapterOf.get(name)!, providers, logger: log, ...(adapterOptions !== undefined ? { adapterOptions } : {}) });
  try {
    await run(started, log);
  } finally {
    await started.app.close();
  }
}

/** A raw HTTP/1.1 upgrade offering one Sec-WebSocket-Version; the status and headers of the answer. */
function upgradeOffering(port: number, path: string, version: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Version': version },
    });
    req.once('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.once('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.once('error', reject);
    req.end();
  });
}

function holdPort(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}

describe('README "What differs": client.close() without a code', () => {
  it('WsGateAdapter sends a close frame with 1000', async () => {
    await withApp('WsGateAdapter', [DifferGateway], async (started) => {
      const client = await WsTestClient.connect(started.url('/differ'));
      client.emit('bye');
      expect(await client.closed).toEqual({ code: CloseCode.Normal, reason: '' });
    });
  });

  it('WsAdapter (ws) sends an empty close frame, which the peer reports as 1005', async () => {
    await withApp('WsAdapter', [DifferGateway], async (started) => {
      const client = await WsTestClient.connect(started.url('/differ'));
      client.emit('bye');
      expect(await client.closed).toEqual({ code: CloseCode.NoStatus, reason: '' });
    });
  });
});

describe('README "What differs": RFC 6455 §4.4 only version 13', () => {
  it('WsGateAdapter answers Sec-WebSocket-Version 8 (and 7) with 426 and Sec-WebSocket-Version: 13; 13 gets 101', async () => {
    await withApp('WsGateAdapter', [DifferGateway], async (started) => {
      for (const version of ['8', '7']) {
        const answer = await upgradeOffering(started.port, '/differ', version);
        expect(answer.status).toBe(426);
        expect(answer.headers['sec-websocket-version']).toBe('13');
      }
      expect((await upgradeOffering(started.port, '/differ', '13')).status).toBe(101);
    });
  });

  it('WsAdapter (ws) accepts version 8 with 101, and answers 7 with 400 (Sec-WebSocket-Version: 13, 8)', async () => {
    await withApp('WsAdapter', [DifferGateway], async (started) => {
      expect((await upgradeOffering(started.port, '/differ', '8')).status).toBe(101);
      const seven = await upgradeOffering(started.port, '/differ', '7');
      expect(seven.status).toBe(400);
      expect(seven.headers['sec-websocket-version']).toBe('13, 8');
    });
  });
});

describe('README "What differs": handler errors are never lost', () => {
  const previous = rxjsConfig.onUnhandledError;
  afterEach(() => {
    rxjsConfig.onUnhandledError = previous;
  });

  it('WsGateAdapter logs a result JSON.stringify cannot encode as [WSG_ERR_GATEWAY_HANDLER], and the client keeps working', async () => {
    await withApp('WsGateAdapter', [DifferGateway], async (started, log) => {
      const client = await WsTestClient.connect(started.url('/differ'));
      client.emit('circular');
      const line = await log.waitFor('error', 'WSG_ERR_GATEWAY_HANDLER');
      expect(line).toMatch(/^\[WSG_ERR_GATEWAY_HANDLER\] a message handler failed on client \S+$/);
      expect(log.matching('error', 'WSG_ERR_GATEWAY_HANDLER')).toHaveLength(1);
      client.emit('echo', 'still here');
      expect(await client.nextJson()).toEqual({ event: 'echo', data: 'still here' });
      expect(client.pending).toBe(0);
      await client.close();
    });
  });

  it('WsAdapter logs nothing for it: the TypeError escapes to rxjs as an unhandled error (an uncaught exception without a hook)', async () => {
    const unhandled: unknown[] = [];
    const first = new Promise<void>((resolve) => {
      rxjsConfig.onUnhandledError = (error) => {
        unhandled.push(error);
        resolve();
      };
    });
    await withApp('WsAdapter', [DifferGateway], async (started, log) => {
      const client = await WsTestClient.connect(started.url('/differ'));
      client.emit('circular');
      await first;
      expect(unhandled).toHaveLength(1);
      expect(unhandled[0]).toBeInstanceOf(TypeError);
      expect((unhandled[0] as Error).message).toContain('circular structure');
      expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
      await client.close();
    });
  });

  it('WsGateAdapter logs what a rethrowing exception filter throws as [WSG_ERR_GATEWAY_HANDLER], and the client keeps working', async () => {
    await withApp('WsGateAdapter', [DifferGateway], async (started, log) => {
      const client = await WsTestClient.connect(started.url('/differ'));
      client.emit('rethrow');
      expect(await log.waitFor('error', 'WSG_ERR_GATEWAY_HANDLER')).toMatch(/^\[WSG_ERR_GATEWAY_HANDLER\] a message handler failed on client \S+$/);
      client.emit('echo', 'after');
      expect(await client.nextJson()).toEqual({ event: 'echo', data: 'after' });
      await client.close();
    });
  });

  it('WsAdapter logs it too, without a code (platform-ws 12.1 catchError)', async () => {
    await withApp('WsAdapter', [DifferGateway], async (started, log) => {
      const client = await WsTestClient.connect(started.url('/differ'));
      client.emit('rethrow');
      expect(await log.waitFor('error', 'the filter rethrew')).toBe('Error: the filter rethrew');
      client.emit('echo', 'after');
      expect(await client.nextJson()).toEqual({ event: 'echo', data: 'after' });
      await client.close();
    });
  });
});

describe('README "What differs": autoPong and clientTracking are not honoured', () => {
  const AUTO_PONG = '@WebSocketGateway(0, /untracked): autoPong: false is not supported; pings are always answered';
  const CLIENT_TRACKING = '@WebSocketGateway(0, /untracked): clientTracking: false is not supported; server.clients always tracks clients (shutdown needs it)';

  it('WsGateAdapter warns once per option at startup, still answers pings and still tracks clients', async () => {
    await withApp('WsGateAdapter', [UntrackedGateway], async (started, log) => {
      expect(log.matching('warn', 'autoPong')).toEqual([AUTO_PONG]);
      expect(log.matching('warn', 'clientTracking')).toEqual([CLIENT_TRACKING]);
      const client = await WsTestClient.connect(started.url('/untracked'));
      const pong = new Promise<string>((resolve) => client.socket.once('pong', (data: Buffer) => resolve(data.toString())));
      client.socket.ping('still answered');
      expect(await pong).toBe('still answered');
      client.emit('tracked');
      expect(await client.nextJson()).toEqual({ event: 'tracked', data: 1 });
      await client.close();
    });
  });

  it('WsGateAdapter warns once for the adapter-wide option, however many gateways inherit it', async () => {
    await withApp(
      'WsGateAdapter',
      [Journal, DifferGateway, FirstSharedGateway],
      async (_started, log) => {
        expect(log.matching('warn', 'autoPong')).toEqual(['WsGateAdapter: autoPong: false is not supported; pings are always answered']);
      },
      { autoPong: false },
    );
  });

  it('WsAdapter (ws) honours them: no pong comes back, and server.clients is undefined', async () => {
    await withApp('WsAdapter', [UntrackedGateway], async (started, log) => {
      expect(log.matching('warn', 'autoPong')).toEqual([]);
      const client = await WsTestClient.connect(started.url('/untracked'));
      let pongs = 0;
      client.socket.on('pong', () => pongs++);
      client.socket.ping('ignored');
      client.emit('tracked');
      // The reply comes after the ping was read: by then a pong would have been sent.
      expect(await client.nextJson()).toEqual({ event: 'tracked', data: null });
      expect(await nothingWithin(client, 100)).toBe(true);
      expect(pongs).toBe(0);
      await client.close();
    });
  });
});

describe('README "What differs": two gateway classes on one path', () => {
  // Nest binds the gateways in an order of its own (not the providers' order): the test reads
  // it from handleConnection, which runs in binding order, and runs both provider orders.
  it.each([
    ['First, Second', [FirstSharedGateway, SecondSharedGateway]],
    ['Second, First', [SecondSharedGateway, FirstSharedGateway]],
  ])('WsGateAdapter (providers %s) routes an event both handle to the first bound only; events only one handles reach it', async (_order, gateways) => {
    await withApp('WsGateAdapter', [Journal, ...gateways], async (started) => {
      const journal = started.app.get(Journal);
      const client = await WsTestClient.connect(started.url('/shared'));
      const [firstBound] = await journal.wait<string>('shared:bound', 2);
      client.emit('who');
      expect(await client.nextJson()).toEqual({ event: 'who', data: firstBound });
      expect(await nothingWithin(client, 100)).toBe(true);
      client.emit('only-second');
      expect(await client.nextJson()).toEqual({ event: 'only-second', data: 'second' });
      client.emit('only-first');
      expect(await client.nextJson()).toEqual({ event: 'only-first', data: 'first' });
      await client.close();
    });
  });

  it('WsAdapter calls both: two replies to one message', async () => {
    await withApp('WsAdapter', [Journal, FirstSharedGateway, SecondSharedGateway], async (started) => {
      const client = await WsTestClient.connect(started.url('/shared'));
      client.emit('who');
      const replies = await client.takeJson(2);
      expect(replies.map((r) => r.data).sort()).toEqual(['first', 'second']);
      expect(await nothingWithin(client, 100)).toBe(true);
      await client.close();
    });
  });
});

describe("README \"What differs\": a gateway's own port that cannot listen (EADDRINUSE)", () => {
  let blocker: Server | null = null;
  afterEach(async () => {
    await new Promise<void>((resolve) => (blocker === null ? resolve() : blocker.close(() => resolve())));
    blocker = null;
  });

  it('WsGateAdapter logs [WSG_ERR_GATEWAY_LISTEN] with the gateway, the port and EADDRINUSE; the application still starts', async () => {
    const port = await freePort();
    blocker = await holdPort(port);
    const { WithPath } = busyPortGateways(port);
    await withApp('WsGateAdapter', [WithPath, DifferGateway], async (started, log) => {
      const line = await log.waitFor('error', 'WSG_ERR_GATEWAY_LISTEN');
      expect(line).toBe(`[WSG_ERR_GATEWAY_LISTEN] @WebSocketGateway(${port}, /busy): cannot listen on port ${port}: listen EADDRINUSE: address already in use :::${port}`);
      const client = await WsTestClient.connect(started.url('/differ'));
      client.emit('echo', 'up');
      expect(await client.nextJson()).toEqual({ event: 'echo', data: 'up' });
      await client.close();
    });
  });

  it('WsGateAdapter logs it for a gateway without a path too', async () => {
    const port = await freePort();
    blocker = await holdPort(port);
    const { WithoutPath } = busyPortGateways(port);
    await withApp('WsGateAdapter', [WithoutPath], async (_started, log) => {
      expect(await log.waitFor('error', 'WSG_ERR_GATEWAY_LISTEN')).toBe(
        `[WSG_ERR_GATEWAY_LISTEN] @WebSocketGateway(${port}): cannot listen on port ${port}: listen EADDRINUSE: address already in use :::${port}`,
      );
    });
  });

  // With a path, platform-ws listens on an http.Server it gives no 'error' listener: the
  // EADDRINUSE is an uncaught exception that ends the process, so it is not run here.
  it('WsAdapter logs the bare Node error, without a code, for a gateway without a path (ws re-emits it)', async () => {
    const port = await freePort();
    blocker = await holdPort(port);
    const { WithoutPath } = busyPortGateways(port);
    await withApp('WsAdapter', [WithoutPath], async (_started, log) => {
      expect(await log.waitFor('error', 'EADDRINUSE')).toBe(`Error: listen EADDRINUSE: address already in use :::${port}`);
    });
  });
});
