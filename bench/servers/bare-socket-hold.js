// The idle floor of anything built on node:net: a net.Server that answers the opening handshake
// with a 101 and then only holds the socket. No HTTP parser, no WebSocket code and no closure
// per socket (the listeners are shared); it never echoes (idle scenario only). Whatever the
// client sends after the handshake (its close frame) is answered with an empty close frame
// and the end of TCP, so the generator's close is clean.
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { serveEchoChild } from './echo-server-child.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY_HEADER = /^sec-websocket-key:[ \t]*([^\r\n]+?)[ \t]*$/im;
const CLOSE_FRAME = Buffer.from([0x88, 0x00]);
const sockets = new Set();

function onData(chunk) {
  // On loopback the generator's request head arrives in one read; anything later is a frame.
  if (chunk.subarray(0, 4).toString('latin1') !== 'GET ') {
    this.end(CLOSE_FRAME);
    return;
  }
  const key = KEY_HEADER.exec(chunk.toString('latin1'))?.[1] ?? '';
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  this.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
}
function onClose() {
  sockets.delete(this);
}
function ignore() {}

await serveEchoChild(async ({ host }) => {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', onData);
    // 'close' follows an error too; without an 'error' listener a reset would throw.
    socket.on('error', ignore);
    socket.on('close', onClose);
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: server.address().port,
    clientCount: () => sockets.size,
    notes: ['holds sockets only (idle floor)'],
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
});
