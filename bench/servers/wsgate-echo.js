// wsgate's engine on its own HTTP server: the same echo as ws-echo.js, through the public API.
import { serveEchoChild } from './echo-server-child.js';

await serveEchoChild(async ({ host, maxMessageSize, recordError }) => {
  // Imported here, not at the top, so a missing build is reported as a start failure.
  const { WsServer } = await import('../../dist/lib/index.js');
  const server = new WsServer({ port: 0, host, maxMessageSize, perMessageDeflate: false });
  const address = await server.listen();
  server.on('connection', (conn) => {
    conn.on('error', recordError);
    // Text arrives as a string and send(string) answers with text; a Buffer goes back binary.
    conn.on('message', (data) => {
      try {
        if (conn.send(data) === 'dropped') recordError({ code: 'send-dropped' });
      } catch (err) {
        recordError(err);
      }
    });
  });
  return {
    port: address.port,
    clientCount: () => server.clients.size,
    close: () => server.close(),
  };
});
