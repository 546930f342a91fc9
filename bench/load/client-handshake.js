// The RFC 6455 §4.1 opening handshake written by hand over node:net, so the generator has no
// WebSocket library between it and the server.
import { connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_RESPONSE_HEAD = 16 * 1024;

export class HandshakeFailure extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/**
 * Resolves with the open socket and any frame bytes that came in behind the 101 response.
 * Rejects with a HandshakeFailure whose `kind` groups failures in the report.
 */
export function openWebSocket({ host, port, path = '/', timeoutMs }) {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const expectedAccept = createHash('sha1').update(key + GUID).digest('base64');
    const socket = connect({ host, port, noDelay: true });
    let head = Buffer.alloc(0);

    const fail = (kind, message) => {
      cleanup();
      socket.destroy();
      reject(new HandshakeFailure(kind, message));
    };
    const onError = (err) => fail(err.code ?? 'socket-error', err.message);
    const onClose = () => fail('closed-before-101', 'server closed the connection during the handshake');
    const onTimeout = () => fail('handshake-timeout', `no 101 within ${timeoutMs} ms`);
    const timer = setTimeout(onTimeout, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };

    const onData = (chunk) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf(HEADER_END);
      if (end === -1) {
        if (head.length > MAX_RESPONSE_HEAD) fail('bad-response', 'response head too large');
        return;
      }
      const text = head.subarray(0, end).toString('latin1');
      const statusLine = text.slice(0, text.indexOf('\r\n') === -1 ? text.length : text.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 101\b/.test(statusLine)) return fail('status', `expected 101, got "${statusLine}"`);
      const accept = /^sec-websocket-accept:[ \t]*([^\r\n]+?)[ \t]*$/im.exec(text)?.[1];
      if (accept !== expectedAccept) return fail('accept', `Sec-WebSocket-Accept ${accept} != ${expectedAccept}`);
      cleanup();
      resolve({ socket, rest: head.subarray(end + HEADER_END.length) });
    };

    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  });
}
