// The ceiling: node:net writing back exactly the bytes it reads, no WebSocket work at all.
//
// To let the load generator count echoes the same way for every server, this server answers the
// opening handshake with a real 101 (accept key included) and then pipes the socket to itself.
// The generator sends UNMASKED frames to it (registry: clientMasks false), so the echoed bytes
// are valid server-to-client frames. Echo is streaming, not per message: a 1 MiB frame starts
// coming back before it has fully arrived, which a WebSocket server cannot do. No pipe(): its
// 16 KiB high-water mark stalls reading on every 1 MiB message; the generator's closed loop
// already bounds what can be queued here.
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { serveEchoChild } from './echo-server-child.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEADER_END = Buffer.from('\r\n\r\n');
const KEY_HEADER = /^sec-websocket-key:[ \t]*([^\r\n]+?)[ \t]*$/im;

await serveEchoChild(async ({ host, recordError }) => {
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    // The generator resets raw-echo connections on purpose (no TIME_WAIT), so resets are not news.
    socket.on('error', (err) => {
      if (err.code !== 'ECONNRESET') recordError(err);
    });
    socket.on('close', () => sockets.delete(socket));
    let head = Buffer.alloc(0);
    const onHandshake = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEADER_END);
      if (end === -1) return;
      socket.off('data', onHandshake);
      const key = KEY_HEADER.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? '';
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      const rest = head.subarray(end + HEADER_END.length);
      if (rest.length > 0) socket.write(rest);
      socket.on('data', (data) => socket.write(data));
    };
    socket.on('data', onHandshake);
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: server.address().port,
    clientCount: () => sockets.size,
    notes: ['raw echo; generator sends unmasked frames'],
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
});
