// Reference server: npm `ws` with its native bufferutil, configured like wsgate's bench server.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { WebSocketServer } from 'ws';
import { serveEchoChild } from './echo-server-child.js';

function bufferutilNote() {
  // ws loads bufferutil silently and falls back to JS masking when it is missing; say which one ran.
  try {
    createRequire(import.meta.url)('bufferutil');
    return 'bufferutil: native';
  } catch {
    return 'bufferutil: MISSING (ws uses JS masking)';
  }
}

await serveEchoChild(async ({ host, maxMessageSize, recordError }) => {
  const wss = new WebSocketServer({ host, port: 0, perMessageDeflate: false, maxPayload: maxMessageSize });
  await once(wss, 'listening');
  wss.on('connection', (ws) => {
    ws.on('error', recordError);
    // ws hands text over as a Buffer; echoing it with binary:false keeps it a text frame.
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  return {
    port: wss.address().port,
    clientCount: () => wss.clients.size,
    notes: [bufferutilNote()],
    close: () =>
      new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
});
