// wsgate's engine on its own HTTP server: the same echo as ws-echo.js, through the public API.
import { serveEchoChild } from './echo-server-child.js';

// One options object each, not one per message.
const AS_TEXT = Object.freeze({ binary: false });
const AS_BINARY = Object.freeze({ binary: true });

await serveEchoChild(async ({ host, maxMessageSize, recordError }) => {
  // Imported here, not at the top, so a missing build is reported as a start failure. The engine
  // entry ('wsgate/engine', as the CLI uses it), not the whole package: loading Nest and rxjs
  // leaves ~12 MB of live heap and a young generation grown to its maximum, and then V8 starts
  // incremental marking every few hundred ms under large-message load (mark-compacts that ws,
  // with ~5 MB of heap, does not pay). An engine-only server loads the engine only.
  const { WsServer } = await import('../../dist/lib/engine.js');
  // decodeText: false — text arrives as its (validated) UTF-8 bytes, as ws hands it over: an echo
  // has no use for a string, so it pays no decode and no encode.
  const server = new WsServer({ port: 0, host, maxMessageSize, perMessageDeflate: false, decodeText: false });
  const address = await server.listen();
  server.on('connection', (conn) => {
    conn.on('error', recordError);
    // binary: false keeps text a text frame although it is a Buffer here.
    conn.on('message', (data, isBinary) => {
      try {
        if (conn.send(data, isBinary ? AS_BINARY : AS_TEXT) === 'dropped') recordError({ code: 'send-dropped' });
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
