import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps what it was told, for tests that assert a log line. */
export class CaptureLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  log(message: unknown): void {
    this.lines.push({ level: 'log', message: String(message) });
  }
  error(message: unknown): void {
    this.lines.push({ level: 'error', message: String(message) });
  }
  warn(message: unknown): void {
    this.lines.push({ level: 'warn', message: String(message) });
  }
  debug(message: unknown): void {
    this.lines.push({ level: 'debug', message: String(message) });
  }
  verbose(message: unknown): void {
    this.lines.push({ level: 'verbose', message: String(message) });
  }
  has(level: string, fragment: string): boolean {
    return this.lines.some((l) => l.level === level && l.message.includes(fragment));
  }
}
