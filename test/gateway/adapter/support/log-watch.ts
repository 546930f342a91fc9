import { CaptureLogger } from '../../support/capture-logger.js';

/**
 * A captured Nest logger a test can wait on: some lines (a port that cannot listen) are
 * written after bootstrap, with no event of the application's to await.
 */
export class LogWatch extends CaptureLogger {
  private readonly waiters: Array<{ level: string; fragment: string; resolve: (line: string) => void }> = [];

  override log(message: unknown): void {
    super.log(message);
    this.notify();
  }

  override error(message: unknown): void {
    super.error(message);
    this.notify();
  }

  override warn(message: unknown): void {
    super.warn(message);
    this.notify();
  }

  /** The lines at `level` containing `fragment`. */
  matching(level: string, fragment: string): string[] {
    return this.lines.filter((l) => l.level === level && l.message.includes(fragment)).map((l) => l.message);
  }

  /** Resolves with the first line at `level` containing `fragment`; rejects after `timeoutMs`. */
  waitFor(level: string, fragment: string, timeoutMs = 3000): Promise<string> {
    const [seen] = this.matching(level, fragment);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${level} line containing ${JSON.stringify(fragment)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        level,
        fragment,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.push(waiter);
    });
  }

  private notify(): void {
    const last = this.lines[this.lines.length - 1]!;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.level === last.level && last.message.includes(waiter.fragment)) {
        this.waiters.splice(i, 1);
        waiter.resolve(last.message);
      }
    }
  }
}
