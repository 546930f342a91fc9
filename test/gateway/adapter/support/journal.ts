import { Injectable } from '@nestjs/common';

/**
 * What gateways saw, per application (a provider, so each app has its own), and a way to
 * wait until they saw it: hooks like handleDisconnect run after the client's own events.
 */
@Injectable()
export class Journal {
  private readonly entries = new Map<string, unknown[]>();
  private readonly waiters: Array<{ kind: string; count: number; resolve: () => void }> = [];

  record(kind: string, value: unknown): void {
    const list = this.entries.get(kind) ?? [];
    list.push(value);
    this.entries.set(kind, list);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.kind === kind && list.length >= waiter.count) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  all<T = unknown>(kind: string): T[] {
    return [...((this.entries.get(kind) as T[] | undefined) ?? [])];
  }

  /** Resolves with every entry of `kind` once there are at least `count`; rejects after `timeoutMs`. */
  async wait<T = unknown>(kind: string, count: number, timeoutMs = 3000): Promise<T[]> {
    if ((this.entries.get(kind)?.length ?? 0) < count) {
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          kind,
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`journal: fewer than ${count} '${kind}' entries after ${timeoutMs} ms`));
        }, timeoutMs);
        this.waiters.push(waiter);
      });
    }
    return this.all<T>(kind);
  }

  clear(kind: string): void {
    this.entries.delete(kind);
  }
}
