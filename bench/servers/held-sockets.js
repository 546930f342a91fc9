// What the idle-only servers (bare-socket-hold.js, http-upgrade-hold.js) share: shared
// listeners (no closure per socket), the 101, and the serveEchoChild contract around a server
// that only holds its sockets. Whatever a client sends after the handshake (its close frame)
// is answered with an empty close frame and the end of TCP, so the generator's close is clean.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { serveEchoChild } from './echo-server-child.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CLOSE_FRAME = Buffer.from([0x88, 0x00]);
const sockets = new Set();

export function switchingProtocols(key) {
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

/** A 'data' listener for an upgraded socket: any frame ends the connection. */
export function endWithCloseFrame() {
  this.end(CLOSE_FRAME);
}

function forget() {
  sockets.delete(this);
}
function ignore() {}

/** Counts `socket` until it closes; an 'error' listener keeps a reset from throwing. */
export function hold(socket) {
  sockets.add(socket);
  socket.on('error', ignore);
  socket.on('close', forget);
}

/** Runs `server` (not yet listening) as a bench child. */
export function serveHolding(server, note) {
  return serveEchoChild(async ({ host }) => {
    server.listen(0, host);
    await once(server, 'listening');
    return {
      port: server.address().port,
      clientCount: () => sockets.size,
      notes: [note],
      close: () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  });
}
