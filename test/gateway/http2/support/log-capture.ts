import type { LoggerService } from '@nestjs/common';

export type LogLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
  /** The Logger's context (its class name), Nest's last argument. */
  readonly context: string | undefined;
}

/**
 * A Nest logger that keeps every line, so a test can await the one it expects: pushes are
 * fire-and-forget and report only through the log.
 */
export class LogCapture implements LoggerService {
  readonly lines: LogLine[] = [];
  private readonly waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.add('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.add('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.add('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.add('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.add('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.add('fatal', message, rest);
  }

  /** Where the log ends now: pass it to `next()` to wait only for lines logged after it. */
  get mark(): number {
    return this.lines.length;
  }

  /** The first line at or after `from` (already logged or still to come) of `level` whose message matches. */
  next(level: LogLevel, pattern: RegExp, from = 0): Promise<LogLine> {
    const match = (line: LogLine): boolean => line.level === level && pattern.test(line.message);
    const found = this.lines.slice(from).find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  private add(level: LogLevel, message: unknown, rest: unknown[]): void {
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const line: LogLine = { level, message: String(message), context };
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (!waiter.match(line)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  }
}
