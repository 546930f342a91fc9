import type { Http2Stream } from 'node:http2';

/**
 * Makes a peer's RST_STREAM end a WebSocket's HTTP/2 stream at once (RFC 8441 §5: RST_STREAM
 * plays the part of a TCP reset). For RST_STREAM NO_ERROR, Node keeps a stream with unread
 * data open until it is read to its end, and the engine stops reading when `receive()` falls
 * behind (or after a close frame): the connection would never report its close. Node emits
 * 'aborted' when the peer resets while our side is still writable.
 */
export function destroyOnAbort(stream: Http2Stream): void {
  stream.once('aborted', onAborted);
}

function onAborted(this: Http2Stream): void {
  // Node is still inside its own close handling; destroy once it has finished.
  process.nextTick(destroyStream, this);
}

function destroyStream(stream: Http2Stream): void {
  if (!stream.destroyed) stream.destroy();
}
