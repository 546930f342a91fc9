// One generator connection: keeps `inFlight` messages outstanding, refills the window with one
// write per incoming chunk, and times each echo against a FIFO of send times.
import { performance } from 'node:perf_hooks';
import { FrameCounter } from './frame-counter.js';
import { CLOSE_NORMAL, Op, encodeClose, encodeFrame } from './frame-bytes.js';

export class EchoClient {
  /**
   * @param {import('node:net').Socket} socket  already upgraded
   * @param {{ firstN: Buffer[], inFlight: number, masked: boolean, expected: { opcode: number, payload: Buffer } | null,
   *          stats: import('./load-stats.js').LoadStats }} plan
   */
  constructor(socket, { firstN, inFlight, masked, expected, stats }) {
    this.socket = socket;
    this.firstN = firstN;
    this.inFlight = inFlight;
    this.masked = masked;
    this.stats = stats;
    this.sentAt = new Float64Array(Math.max(inFlight, 1));
    this.head = 0;
    this.outstanding = 0;
    this.pumping = false;
    this.onIdle = null;
    this.state = 'open';
    this.closeReplied = false;
    this.onClosed = null;
    this.counter = new FrameCounter(
      (opcode, payload) => this.onControl(opcode, payload),
      expected,
      (problem) => stats.problem(problem),
    );

    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => stats.problem(`socket ${err.code ?? err.message}`));
    socket.on('close', () => this.onSocketClose());
  }

  start() {
    this.pumping = true;
    this.send(this.inFlight);
  }

  send(n) {
    this.socket.write(this.firstN[n]);
    const t = performance.now();
    const size = this.inFlight;
    let slot = this.head + this.outstanding;
    for (let k = 0; k < n; k++) this.sentAt[slot++ % size] = t;
    this.outstanding += n;
  }

  onData(chunk) {
    let n = this.counter.push(chunk);
    if (n === 0) return;
    if (n > this.outstanding) {
      this.stats.problem('echoes nobody sent', n - this.outstanding);
      n = this.outstanding;
    }
    const now = performance.now();
    const size = this.inFlight;
    // Echoes of one batch share a send time, so each batch is one histogram entry with a count:
    // the per-message RTT distribution is unchanged, the generator's cost per message drops.
    let k = 0;
    while (k < n) {
      const sentAt = this.sentAt[this.head];
      let same = 0;
      do {
        same++;
        k++;
        this.head = (this.head + 1) % size;
      } while (k < n && this.sentAt[this.head] === sentAt);
      this.stats.recordRtt((now - sentAt) * 1000, same);
    }
    this.outstanding -= n;
    this.stats.messages += n;
    if (this.pumping) this.send(n);
    else if (this.outstanding === 0 && this.onIdle !== null) this.onIdle();
  }

  onControl(opcode, payload) {
    if (opcode === Op.Ping) {
      this.socket.write(encodeFrame(Op.Pong, payload, this.masked));
      return;
    }
    if (opcode !== Op.Close) return;
    if (this.state === 'closing') {
      this.closeReplied = true;
      // The raw TCP echo never closes on its own; a WebSocket server must close TCP first
      // (§7.1.1). A reset, not a FIN, keeps 10 000 client ports out of TIME_WAIT for the next run.
      if (!this.masked) this.socket.resetAndDestroy();
      return;
    }
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : 'none';
    this.stats.problem(`server sent close ${code}`);
    this.state = 'closing';
    this.closeReplied = true;
    this.pumping = false;
    this.socket.write(encodeClose(CLOSE_NORMAL, this.masked));
  }

  onSocketClose() {
    if (this.state === 'open') this.stats.problem('server dropped TCP without close frame');
    this.state = 'closed';
    this.pumping = false;
    if (this.onIdle !== null) this.onIdle();
    if (this.onClosed !== null) this.onClosed();
  }

  /** Stop refilling; resolves true when every outstanding echo came back, false on timeout. */
  drain(timeoutMs) {
    this.pumping = false;
    if (this.outstanding === 0 || this.state === 'closed') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onIdle = null;
        resolve(false);
      }, timeoutMs);
      this.onIdle = () => {
        clearTimeout(timer);
        this.onIdle = null;
        resolve(this.outstanding === 0);
      };
    });
  }

  /**
   * Starts the closing handshake and resolves with how it ended:
   * 'clean' | 'no close reply' | 'server kept TCP open' | 'closed without close reply' | 'already closed'
   */
  close(timeoutMs) {
    if (this.state === 'closed') return Promise.resolve('already closed');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onClosed = null;
        this.socket.destroy();
        resolve(this.closeReplied ? 'server kept TCP open' : 'no close reply');
      }, timeoutMs);
      this.onClosed = () => {
        clearTimeout(timer);
        this.onClosed = null;
        resolve(this.closeReplied ? 'clean' : 'closed without close reply');
      };
      if (this.state === 'open') {
        this.state = 'closing';
        this.socket.write(encodeClose(CLOSE_NORMAL, this.masked));
      }
    });
  }
}
