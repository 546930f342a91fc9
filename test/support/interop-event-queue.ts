import type { EventEmitter } from 'node:events';

/**
 * Events of one kind, buffered in arrival order: a test can await the next one even when
 * it arrived before the test asked (echoes often beat the `await`).
 */
export class EventQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<(item: T) => void> = [];

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(item);
    else this.items.push(item);
  }

  next(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Buffers every `event` of `emitter`, mapped to one value. */
export function queueEvents<T>(emitter: EventEmitter, event: string, map: (...args: any[]) => T): EventQueue<T> {
  const queue = new EventQueue<T>();
  emitter.on(event, (...args: unknown[]) => queue.push(map(...args)));
  return queue;
}
