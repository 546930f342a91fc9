import { HttpException } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';

/** The `data` of an `exception` event, as Nest's BaseWsExceptionFilter shapes it. */
export interface WsExceptionPayload {
  readonly status: 'error';
  readonly message: unknown;
}

/** Sent when the error is not one a client should see. */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/**
 * What the client is told about an error a handler (or its guards and pipes) raised:
 * `WsException` as Nest sends it (an object error goes as it is); an `HttpException` — a
 * guard's `ForbiddenException`, a pipe's `BadRequestException` — with its response message.
 * Null: the error was unexpected, and the gateway's `onError` policy decides.
 */
export function exceptionPayload(error: unknown): object | null {
  if (error instanceof WsException) {
    const value = error.getError();
    return typeof value === 'object' && value !== null ? value : { status: 'error', message: value };
  }
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? error.message);
    return { status: 'error', message };
  }
  return null;
}
