import { afterEach } from '@jest/globals';
import type { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { WsServer, type WsServerOptions } from '../../../lib/frames/websocket-server.js';
import { WsClient, type WsClientOptions } from '../../../lib/http2/ws-client.js';

/** A WsServer on 127.0.0.1 and one WsClient connected to it: the server's side and the client's. */
export interface EnginePair {
  serverSide: WebSocketConnection;
  client: WebSocketConnection;
}

/**
 * Opens engine pairs for one test file and closes all of them (server included) after each
 * test. Call at the top level of the file.
 */
export function enginePairs(): (serverOptions?: Omit<WsServerOptions, 'port' | 'host'>, clientOptions?: WsClientOptions) => Promise<EnginePair> {
  const servers: WsServer[] = [];
  const clients: WebSocketConnection[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (serverOptions = {}, clientOptions = {}) => {
    const server = new WsServer({ ...serverOptions, port: 0, host: '127.0.0.1' });
    servers.push(server);
    const accepted = new Promise<WebSocketConnection>((resolve) => server.once('connection', resolve));
    const { port } = await server.listen();
    const client = await WsClient.connect(`ws://127.0.0.1:${port}/`, clientOptions);
    clients.push(client);
    return { serverSide: await accepted, client };
  };
}
