// What node:http's upgrade road costs by itself: an http.Server whose 'upgrade' listener writes
// the 101 and then only holds the socket. No WebSocket code, no closure per socket; it never
// echoes (idle scenario only).
import { createServer } from 'node:http';
import { endWithCloseFrame, hold, serveHolding, switchingProtocols } from './held-sockets.js';

const server = createServer((_req, res) => res.writeHead(426).end());
server.on('upgrade', (req, socket) => {
  hold(socket);
  socket.write(switchingProtocols(req.headers['sec-websocket-key']));
  socket.on('data', endWithCloseFrame);
});
await serveHolding(server, 'node:http upgrade, then holds the socket');
