import { CloseCode } from '../close-codes.js';
import type { WsgError } from '../errors.js';

/** How a connection ended. `code` 1006 means TCP went away without a close frame. */
export interface CloseInfo {
  code: number;
  reason: string;
  /** Both close frames were exchanged (RFC 6455 §7.1.4). */
  wasClean: boolean;
  /** Why the engine closed, when it did so because of an error or timeout. */
  error?: WsgError;
}

/**
 * The closing handshake of one connection (RFC 6455 §7): which close frames went each way
 * with what, and the closeTimeout that bounds the wait for the peer. Made when the first
 * close frame is sent or received; an idle connection carries none.
 */
export class CloseHandshake {
  frameSent = false;
  frameReceived = false;
  private sentCode: number = CloseCode.Abnormal;
  private sentReason = '';
  private receivedCode: number = CloseCode.Abnormal;
  private receivedReason = '';
  private timer: NodeJS.Timeout | null = null;

  /** Our close frame's code and reason, as sent (§7.1.2). */
  sending(code: number, reason: string): void {
    this.sentCode = code;
    this.sentReason = reason;
  }

  /** The peer's close frame (§7.1.5); 1005 when it carried no code. */
  received(code: number, reason: string): void {
    this.frameReceived = true;
    this.receivedCode = code;
    this.receivedReason = reason;
  }

  get receivedCodeOrAbnormal(): number {
    return this.receivedCode;
  }

  /** Starts the closeTimeout once (0 disables it); `onTimeout` runs if the peer never finishes. */
  arm(timeoutMs: number, onTimeout: () => void): void {
    if (this.timer !== null || timeoutMs === 0) return;
    this.timer = setTimeout(onTimeout, timeoutMs);
    this.timer.unref();
  }

  disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** How the connection ended, by the frames exchanged (§7.1.5, §7.1.6). */
  info(): CloseInfo {
    if (this.frameReceived) return { code: this.receivedCode, reason: this.receivedReason, wasClean: this.frameSent };
    if (this.frameSent) return { code: this.sentCode, reason: this.sentReason, wasClean: false };
    return { code: CloseCode.Abnormal, reason: '', wasClean: false };
  }
}
