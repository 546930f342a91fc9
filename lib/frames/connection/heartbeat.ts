import type { ResolvedConnectionOptions } from '../connection-options.js';

/** What the heartbeat needs from its connection. */
export interface HeartbeatHost {
  readonly isOpen: boolean;
  /** A ping to keep the connection alive (it jumps the data queue). */
  sendHeartbeatPing(): void;
  /** No frame arrived within idleTimeout. */
  onIdleTimeout(): void;
  /** No byte arrived within pongTimeout of the first unanswered heartbeat ping. */
  onPongTimeout(): void;
}

/**
 * The timers of one connection: idleTimeout (no frame for that long) and the heartbeat
 * (a ping every pingInterval; silence for pongTimeout after the first unanswered one drops
 * the transport). Made only when one of them is set: most connections carry none.
 */
export class Heartbeat {
  private idleTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private pongTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private awaitingSince = 0;

  constructor(
    private readonly host: HeartbeatHost,
    private readonly options: ResolvedConnectionOptions,
  ) {
    if (options.idleTimeout > 0) this.idleTimer = setTimeout(() => this.onIdle(), options.idleTimeout);
    if (options.pingInterval > 0) this.heartbeatTimer = setTimeout(() => this.onBeat(), options.pingInterval);
  }

  /** Bytes arrived: the connection is not idle, and any byte answers the heartbeat. */
  onInbound(): void {
    if (this.idleTimer !== null) this.idleTimer.refresh();
    this.awaitingPong = false;
  }

  stop(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    if (this.pongTimer !== null) clearTimeout(this.pongTimer);
    this.idleTimer = null;
    this.heartbeatTimer = null;
    this.pongTimer = null;
  }

  private onIdle(): void {
    this.idleTimer = null;
    if (this.host.isOpen) this.host.onIdleTimeout();
  }

  /** Every pingInterval: a ping; the first unanswered one starts the pongTimeout deadline. */
  private onBeat(): void {
    if (!this.host.isOpen) return;
    if (!this.awaitingPong) {
      this.awaitingPong = true;
      this.awaitingSince = Date.now();
    }
    this.host.sendHeartbeatPing();
    if (this.pongTimer === null) this.pongTimer = setTimeout(() => this.onPongDeadline(), this.options.pongTimeout);
    this.heartbeatTimer?.refresh();
  }

  /** Any inbound byte clears awaitingPong; the deadline only fires for silence since the first unanswered ping. */
  private onPongDeadline(): void {
    this.pongTimer = null;
    if (!this.host.isOpen || !this.awaitingPong) return;
    const waited = Date.now() - this.awaitingSince;
    if (waited < this.options.pongTimeout) {
      this.pongTimer = setTimeout(() => this.onPongDeadline(), this.options.pongTimeout - waited);
      return;
    }
    this.host.onPongTimeout();
  }
}
