import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { WsServer, type WsServerOptions } from '../../lib/frames/websocket-server.js';
import { expectWsgError } from '../support/expect-wsg-error.js';
import { rawHttpExchange } from '../support/raw-peer.js';
import { upgradeRequestText } from '../support/upgrade-request-text.js';

// The one accept decision on the HTTP/1.1 road, as the engine's WsServer runs it.
let http: Server;
let ws: WsServer;

async function start(options: Omit<WsServerOptions, 'server' | 'port'>): Promise<{ port: number; errors: unknown[] }> {
  http = createServer();
  ws = new WsServer({ ...options, server: http });
  const errors: unknown[] = [];
  ws.on('error', (error: unknown) => errors.push(error));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return { port: (http.address() as AddressInfo).port, errors };
}

afterEach(async () => {
  await ws.close();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

describe('accept pipeline: the decision checks what the client offered', () => {
  it('answers 500 and reports WSG_ERR_INVALID_ARGUMENT when handleProtocols picks a subprotocol the client did not offer, never a 101', async () => {
    const site = await start({ handleProtocols: () => 'never-offered' });
    const response = await rawHttpExchange(site.port, upgradeRequestText({ 'Sec-WebSocket-Protocol': 'chat' }));
    expect(response.status).toBe(500);
    expect(ws.clients.size).toBe(0);
    const error = expectWsgError(site.errors[0], 'WSG_ERR_INVALID_ARGUMENT');
    expect(error.message).toBe('Subprotocol "never-offered" was not offered by the client');
  });

});
