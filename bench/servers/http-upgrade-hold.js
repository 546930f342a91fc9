// What node:http's upgrade road costs by itself: an http.Server whose 'upgrade' listener writes
// the 101 and then only holds the socket, with shared listeners (no closure per socket). No
// WebSocket code; it never echoes (idle scenario only). Whatever the client sends after the
// handshake (its close frame) is answered with an empty close frame and the end of TCP.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { serveEchoChild } from './echo-server-child.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CLOSE_FRAME = Buffer.from([0x88, 0x00]);
const sockets = new Set();

function onData() {
  this.end(CLOSE_FRAME);
}
function onClose() {
  sockets.delete(this);
}
function ignore() {}

await serveEchoChild(async ({ host }) => {
  const server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket) => {
    sockets.add(socket);
    const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.on('data', onData);
    socket.on('error', ignore);
    socket.on('close', onClose);
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: server.address().port,
    clientCount: () => sockets.size,
    notes: ['node:http upgrade, then holds the socket'],
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
});
