import { CloseCode } from './close-codes.js';

/**
 * Every engine limit in one place: its default, unit and the close code sent when a peer
 * crosses it. Options override these per server or connection.
 */
export const Limits = {
  /** bytes: largest message after reassembly and inflation. Servers: 1 MiB. */
  maxMessageSize: { default: 1024 * 1024, unit: 'bytes', closeCode: CloseCode.MessageTooBig },
  /** bytes: largest single frame payload (declared length). Defaults to maxMessageSize. */
  maxFrameSize: { default: 1024 * 1024, unit: 'bytes', closeCode: CloseCode.MessageTooBig },
  /** bytes: outbound bytes queued (ours + socket's) before the sendQueuePolicy applies (default 'close': 1013). */
  maxSendQueue: { default: 16 * 1024 * 1024, unit: 'bytes', closeCode: CloseCode.TryAgainLater },
  /** bytes: drain() resolves once the send queue is below this. */
  sendLowWaterMark: { default: 64 * 1024, unit: 'bytes', closeCode: null },
  /** frames: pongs owed while the socket's write buffer stays over its high-water mark (ping flood guard). */
  maxPendingPongs: { default: 128, unit: 'frames', closeCode: CloseCode.PolicyViolation },
  /** messages: received but not yet taken by receive(); reading pauses at this. */
  maxReceiveQueue: { default: 64, unit: 'messages', closeCode: null },
  /** ms: wait for the peer's close frame / TCP close after ours. */
  closeTimeout: { default: 5_000, unit: 'ms', closeCode: null },
  /** ms: interval between heartbeat pings; 0 disables the heartbeat. */
  pingInterval: { default: 0, unit: 'ms', closeCode: null },
  /** ms: wait for any frame after a heartbeat ping before giving up. */
  pongTimeout: { default: 10_000, unit: 'ms', closeCode: CloseCode.Abnormal },
  /** ms: close 1001 when no frame arrives for this long; 0 disables it. */
  idleTimeout: { default: 0, unit: 'ms', closeCode: CloseCode.GoingAway },
  /**
   * ms: the opening handshake must be done within this. A client gives up; a server counts from
   * the accept (TCP connection or RFC 8441 stream) to its answer: a socket still without its
   * first request head is destroyed (answered 408 on a port WsServer owns), a decision still
   * pending is answered 503. 0 disables it on servers.
   */
  handshakeTimeout: { default: 10_000, unit: 'ms', closeCode: null },
  /** connections: open WebSockets per server or gateway; one more is answered 503. */
  maxConnections: { default: 100_000, unit: 'connections', closeCode: null },
  /** connections: open WebSockets from one IP address; one more is answered 429. */
  maxConnectionsPerIp: { default: 4_096, unit: 'connections', closeCode: null },
  /** handshakes: upgrade requests waiting for their decision; one more is answered 503. */
  maxPendingHandshakes: { default: 4_096, unit: 'handshakes', closeCode: null },
  /** handshakes: upgrade requests from one IP address waiting for their decision; one more is answered 429. */
  maxPendingHandshakesPerIp: { default: 256, unit: 'handshakes', closeCode: null },
} as const;
