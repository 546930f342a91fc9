import { Mailbox, type MailboxItem } from './mailbox.js';

/**
 * Runs one connection's items one at a time, in arrival order: client messages, infos and
 * `@OnInit`. An item that finds the connection idle (nothing in flight, nothing waiting)
 * runs at once, without a mailbox; anything else waits in the mailbox, made on first need.
 * Infos always wait for a later microtask, never running inside the sender's call stack.
 *
 * Back-pressure: while `maxMailbox` client messages wait, reading pauses, which stops the
 * engine reading the socket until the mailbox has room again.
 *
 * A base class of the runner rather than an object of its own: a connection costs no more
 * objects than before, and the scheduler's state stays in the runner's fields.
 */
export abstract class ConnectionScheduler {
  /** Made when an item first has to wait; an idle connection holds none. */
  private mailbox: Mailbox | null = null;
  /** Settles when the handler in flight is done; null when none is. */
  private busy: Promise<void> | null = null;
  /** An item is being handled synchronously (a direct item or the drain loop). */
  private draining = false;
  private drainScheduled = false;
  /** Reading is paused because the mailbox is full. */
  private holding = false;

  /** The bound on waiting messages, and on waiting infos. */
  protected abstract get maxMailbox(): number;
  /** False once the connection closed or this side decided to close: what waits is dropped. */
  protected abstract runnable(): boolean;
  /** Handles one item; returns a promise (that never rejects) when it did not finish synchronously. */
  protected abstract handle(item: MailboxItem): Promise<void> | undefined;
  /** `handle()` of a client message, without the item. */
  protected abstract handleMessage(data: string | Buffer, isBinary: boolean): Promise<void> | undefined;
  /** Pauses (`true`) or resumes reading the client (resuming only while the connection is open). */
  protected abstract holdReading(hold: boolean): void;

  /** @internal */
  afterBusy(): void {
    this.busy = null;
    this.drainMailbox();
  }

  /** @internal */
  scheduledDrain(): void {
    this.drainScheduled = false;
    this.drainMailbox();
  }

  /** A client message: handled now when the connection is idle, queued behind what runs or waits otherwise. */
  protected receive(data: string | Buffer, isBinary: boolean): void {
    if (this.idle()) {
      if (!this.runnable()) return;
      this.draining = true;
      let pending: Promise<void> | undefined;
      try {
        pending = this.handleMessage(data, isBinary);
      } finally {
        this.draining = false;
      }
      this.settle(pending);
      return;
    }
    const mailbox = (this.mailbox ??= new Mailbox());
    mailbox.push({ kind: 'message', data, isBinary });
    if (mailbox.messageCount >= this.maxMailbox && !this.holding) {
      this.holding = true;
      this.holdReading(true);
    }
    this.drainMailbox();
  }

  /** Queues an info for a later microtask; false when `maxMailbox` infos already wait. */
  protected queueInfo(type: string, data: unknown): boolean {
    const mailbox = (this.mailbox ??= new Mailbox());
    if (mailbox.infoCount >= this.maxMailbox) return false;
    mailbox.push({ kind: 'info', type, data });
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      queueMicrotask(() => this.scheduledDrain());
    }
    return true;
  }

  /** Runs `item` first (`@OnInit`): the connection has just opened, nothing runs or waits yet. */
  protected runFirst(item: MailboxItem): void {
    this.draining = true;
    let pending: Promise<void> | undefined;
    try {
      pending = this.handle(item);
    } finally {
      this.draining = false;
    }
    this.settle(pending);
  }

  /** Drops what waits (the connection is gone). */
  protected clearMailbox(): void {
    this.mailbox?.clear();
  }

  /** Runs `run` once the handler in flight (if any) is done: callbacks never overlap. */
  protected afterInFlight(run: () => Promise<void>): void {
    if (this.busy !== null) void this.busy.then(run);
    else void run();
  }

  private idle(): boolean {
    return this.busy === null && !this.draining && (this.mailbox === null || this.mailbox.length === 0);
  }

  private settle(pending: Promise<void> | undefined): void {
    if (pending !== undefined) this.busy = pending.then(() => this.afterBusy());
    // Items that arrived while a direct item ran synchronously wait behind it.
    else if (this.mailbox !== null && this.mailbox.length > 0) this.drainMailbox();
  }

  private drainMailbox(): void {
    if (this.busy !== null || this.draining) return;
    const mailbox = this.mailbox;
    if (mailbox === null) return;
    this.draining = true;
    try {
      while (this.runnable()) {
        const item = mailbox.shift();
        if (item === undefined) break;
        const pending = this.handle(item);
        if (pending !== undefined) {
          this.busy = pending.then(() => this.afterBusy());
          break;
        }
      }
    } finally {
      this.draining = false;
    }
    if (this.holding && mailbox.messageCount < this.maxMailbox) {
      this.holding = false;
      this.holdReading(false);
    }
  }
}
