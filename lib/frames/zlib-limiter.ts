/**
 * A job handed to the limiter. It must call `done` exactly once when its zlib work is over
 * (later calls are ignored), whatever the outcome.
 */
export type ZlibJob = (done: () => void) => void;

interface QueuedJob {
  readonly limit: number;
  readonly job: ZlibJob;
}

/**
 * Bounds how many zlib operations run at once. zlib work runs on libuv's small thread pool
 * and each in-flight operation pins its buffers; thousands of sockets inflating together
 * fragment memory badly (nodejs/node#8871, websockets/ws#1202). So the bound is per
 * process, not per connection.
 *
 * Each job carries the limit of the extension instance that queued it: a job starts only
 * while fewer than its limit are in flight. Jobs start strictly first in, first out, so a
 * job with a small limit at the head holds back the jobs behind it; that keeps per-
 * connection order and fairness simple to reason about.
 */
export class ZlibLimiter {
  // Array plus head index: O(1) dequeue without Array#shift's copying.
  #queue: (QueuedJob | undefined)[] = [];
  #head = 0;
  #inFlight = 0;
  // A job that calls done() synchronously must not recurse into #startReady: the running
  // loop re-checks the head on its next turn.
  #starting = false;

  /** Jobs started and not yet done. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues `job`; it starts (possibly synchronously) once fewer than `limit` jobs are in flight. */
  run(limit: number, job: ZlibJob): void {
    this.#queue.push({ limit, job });
    this.#startReady();
  }

  #startReady(): void {
    if (this.#starting) return;
    this.#starting = true;
    try {
      this.#startLoop();
    } finally {
      this.#starting = false;
    }
  }

  #startLoop(): void {
    while (this.#head < this.#queue.length) {
      const next = this.#queue[this.#head] as QueuedJob;
      if (this.#inFlight >= next.limit) return;
      this.#queue[this.#head] = undefined;
      this.#head += 1;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#inFlight += 1;
      let released = false;
      next.job(() => {
        if (released) return;
        released = true;
        this.#inFlight -= 1;
        this.#startReady();
      });
    }
  }
}

/** The one limiter every permessage-deflate instance in this process shares. */
export const sharedZlibLimiter = new ZlibLimiter();
