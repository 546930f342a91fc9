/**
 * Told by a connection each time a send is refused at `maxSendQueue`: a message `dropped`
 * (marked volatile, or under the `drop` policy) or the connection closed 1013 (the `close`
 * policy, the default). A send refused with a throw (the `error` policy) is told to its caller
 * and is not reported here.
 */
export interface SendQueueObserver {
  messageDropped(): void;
  connectionClosed(): void;
}

/** What `SendQueueCounters` has counted since it was made. */
export interface SendQueueTotals {
  /** Messages not sent because the send queue was full (volatile, or the `drop` policy). */
  readonly dropped: number;
  /** Connections closed 1013 because a send found the queue full (the `close` policy). */
  readonly closed: number;
}

/** One warn line at most this often per counter set; what happens in between is summed into the next. */
const REPORT_INTERVAL_MS = 1000;

/**
 * Counts drops and policy closes for the connections of one server (or one gateway) and
 * reports them through `warn`, rate-limited: the first event is reported at once, later ones
 * are summed and reported at most once per second, so a storm of drops costs one line a
 * second, and no drop goes unreported. `flush()` reports what is pending at shutdown.
 */
export class SendQueueCounters implements SendQueueObserver, SendQueueTotals {
  private _dropped = 0;
  private _closed = 0;
  private pendingDropped = 0;
  private pendingClosed = 0;
  private lastReport = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    /** Who the line is about: `WsServer`, a gateway's name. */
    private readonly subject: string,
    private readonly maxSendQueue: number,
    private readonly warn: (line: string) => void,
  ) {}

  get dropped(): number {
    return this._dropped;
  }

  get closed(): number {
    return this._closed;
  }

  /** The totals as a plain frozen object. */
  totals(): SendQueueTotals {
    return Object.freeze({ dropped: this._dropped, closed: this._closed });
  }

  messageDropped(): void {
    this._dropped++;
    this.pendingDropped++;
    this.schedule();
  }

  connectionClosed(): void {
    this._closed++;
    this.pendingClosed++;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const wait = this.lastReport + REPORT_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(reportOnTimer, wait, this);
    this.timer.unref();
  }

  /** Reports what is pending now (also called at shutdown) and cancels the timer. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pendingDropped === 0 && this.pendingClosed === 0) return;
    this.lastReport = Date.now();
    const dropped = this.pendingDropped;
    const closed = this.pendingClosed;
    this.pendingDropped = 0;
    this.pendingClosed = 0;
    this.warn(
      `[WSG_ERR_SEND_QUEUE_FULL] ${this.subject}: ${dropped} message(s) dropped, ${closed} connection(s) closed 1013 ` +
        `at maxSendQueue (${this.maxSendQueue} bytes) since the last report; totals ${this._dropped} dropped, ${this._closed} closed`,
    );
  }
}

function reportOnTimer(counters: SendQueueCounters): void {
  counters.flush();
}
