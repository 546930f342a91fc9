// The idle floor of anything built on node:net: a net.Server that answers the opening handshake
// with a 101 and then only holds the socket. No HTTP parser, no WebSocket code, no closure per
// socket; it never echoes (idle scenario only).
import { createServer } from 'node:net';
import { endWithCloseFrame, hold, serveHolding, switchingProtocols } from './held-sockets.js';

const KEY_HEADER = /^sec-websocket-key:[ \t]*([^\r\n]+?)[ \t]*$/im;

function onData(chunk) {
  // On loopback the generator's request head arrives in one read; anything later is a frame.
  if (chunk.subarray(0, 4).toString('latin1') !== 'GET ') {
    endWithCloseFrame.call(this);
    return;
  }
  this.write(switchingProtocols(KEY_HEADER.exec(chunk.toString('latin1'))?.[1] ?? ''));
}

const server = createServer((socket) => {
  hold(socket);
  socket.on('data', onData);
});
await serveHolding(server, 'holds sockets only (idle floor)');
