import type { HubMember } from '../../lib/hub/index.js';
import type { PreparedMessage, SendOptions, SendResult } from '../../lib/frames/websocket-connection.js';

/**
 * A real in-memory HubMember: the hub's unit boundary is this interface, so the tests drive
 * the hub with objects that record what reached them and answer what a connection would.
 */
export class RecordingMember implements HubMember {
  readonly sent: PreparedMessage[] = [];
  /** Whether each message in `sent` came marked volatile. */
  readonly volatile: boolean[] = [];
  readonly infos: Array<{ type: string; data: unknown }> = [];
  readonly closes: Array<{ code: number; reason: string }> = [];
  /** What sendPrepared answers next: a result, or an error it throws. */
  answer: SendResult | Error = 'ok';
  /** An error deliverInfo / close throws, if any. */
  infoError: Error | null = null;
  closeError: Error | null = null;

  constructor(readonly id: string) {}

  sendPrepared(msg: PreparedMessage, options?: SendOptions): SendResult {
    if (this.answer instanceof Error) throw this.answer;
    this.sent.push(msg);
    this.volatile.push(options?.volatile === true);
    return this.answer;
  }

  deliverInfo(type: string, data: unknown): void {
    if (this.infoError !== null) throw this.infoError;
    this.infos.push({ type, data });
  }

  close(code: number, reason: string): void {
    if (this.closeError !== null) throw this.closeError;
    this.closes.push({ code, reason });
  }

  /** The text of every message this member got, decoded. */
  texts(): string[] {
    return this.sent.map((msg) => msg.payload.toString('utf8'));
  }
}
