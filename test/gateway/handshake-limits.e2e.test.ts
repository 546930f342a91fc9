import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Header } from '@nestjs/common';
import { OnAccept, WsGateway } from '../../lib/gateway/index.js';
import { expectCodeInText } from '../support/expect-wsg-error.js';
import { upgradeRequestText } from '../support/upgrade-request-text.js';
import { startApp, type StartedApp } from './support/nest-app.js';

// Bounds with wide margins: a loaded 2-core box.
const DEADLINE = 300;

@WsGateway('/hang', { handshakeTimeout: DEADLINE, maxPendingHandshakesPerIp: 1 })
class HangingGateway {
  @OnAccept()
  accept(): Promise<never> {
    return new Promise<never>(() => undefined);
  }
}

@Controller('hello')
class HelloController {
  @Get()
  @Header('Connection', 'keep-alive')
  hello(): string {
    return 'hello';
  }
}

let started: StartedApp;
const sockets: Socket[] = [];

beforeAll(async () => {
  started = await startApp('express', { providers: [HangingGateway], controllers: [HelloController] });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await started.app.close();
});

async function open(): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port: started.port });
  socket.on('error', () => undefined);
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

function answer(socket: Socket): Promise<string> {
  return new Promise((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
}

describe('limit handshakeTimeout on a gateway (HTTP/1.1 road of the application server)', () => {
  it('answers 503 WSG_ERR_HANDSHAKE_TIMEOUT when @OnAccept has not settled at the deadline, and 429 WSG_ERR_IP_LIMIT to a second upgrade meanwhile', async () => {
    const first = await open();
    const since = performance.now();
    const timedOut = answer(first);
    first.write(upgradeRequestText({}, 'GET', '/hang'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await open();
    const limited = answer(second);
    second.write(upgradeRequestText({}, 'GET', '/hang'));
    const refused = await limited;
    expect(refused).toMatch(/^HTTP\/1\.1 429 /);
    expectCodeInText(refused, 'WSG_ERR_IP_LIMIT');
    const late = await timedOut;
    const elapsed = performance.now() - since;
    expect(late).toMatch(/^HTTP\/1\.1 503 /);
    expectCodeInText(late, 'WSG_ERR_HANDSHAKE_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(DEADLINE - 50);
    expect(elapsed).toBeLessThan(DEADLINE + 2_500);
  });

  it('destroys sockets of the application server that bring no request head within the deadline', async () => {
    const silent = await Promise.all(Array.from({ length: 50 }, () => open()));
    const since = performance.now();
    await Promise.all(silent.map((socket) => once(socket, 'close')));
    expect(performance.now() - since).toBeLessThan(DEADLINE + 2_500);
  });

  it('leaves the application HTTP routes alone: a keep-alive client idle past the deadline after its first request is not closed', async () => {
    const socket = await open();
    const request = 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n';
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.write(request);
    await new Promise((resolve) => setTimeout(resolve, DEADLINE * 3));
    expect(socket.destroyed).toBe(false);
    socket.write(request);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.split('HTTP/1.1 200').length - 1).toBe(2);
    expect(socket.destroyed).toBe(false);
  });
});
