import type { LoggerService } from '@nestjs/common';

const CODE_PREFIX = /^\[(WSG_ERR_[A-Z0-9_]+)\]/;

function codeOf(message: unknown, level: string): string {
  if (message instanceof Error) return (message as { code?: string }).code ?? `${level}: ${message.name}`;
  const text = String(message);
  return CODE_PREFIX.exec(text)?.[1] ?? `${level}: ${text.slice(0, 60)}`;
}

/**
 * The bench apps' logger: silent like `logger: false` on the hot path, but an error or warning
 * any part of the app logs (wsgate's runtime, WsAdapter, Nest itself) is counted by its code
 * for the report, and the first of each code goes to stderr (`--verbose` shows it; a crash
 * tail includes it). `logger: false` would hide a gateway failing under load.
 */
export class ErrorCountingLogger implements LoggerService {
  private readonly seen = new Set<string>();

  constructor(private readonly recordError: (error: { code?: string }) => void) {}

  log(): void {}
  debug(): void {}
  verbose(): void {}

  warn(message: unknown, ...rest: unknown[]): void {
    this.count('warn', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.count('error', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.count('fatal', message, rest);
  }

  private count(level: string, message: unknown, rest: unknown[]): void {
    const code = codeOf(message, level);
    this.recordError({ code });
    if (this.seen.has(code)) return;
    this.seen.add(code);
    process.stderr.write(`[${level}] ${String(message instanceof Error ? message.stack : message)}\n${rest.map(String).join('\n')}\n`);
  }
}
