import { DecoratorError } from '../errors.js';
import { HANDLER_METADATA } from '../metadata-keys.js';

/** Which lifecycle step a method handles. */
export type HandlerKind = 'accept' | 'init' | 'message' | 'info' | 'close';

/** One record per handler decorator on a method; `pattern` null is a catch-all. */
export interface HandlerMetadata {
  readonly kind: HandlerKind;
  readonly pattern: string | null;
}

function handlerDecorator(decorator: string, metadata: HandlerMetadata): MethodDecorator {
  return (target, key, descriptor) => {
    if (typeof target === 'function' || typeof descriptor.value !== 'function') {
      throw new DecoratorError('WSG_ERR_DECORATOR_TARGET', `${decorator} goes on an instance method, not on ${String(key)}`);
    }
    const existing: readonly HandlerMetadata[] = Reflect.getMetadata(HANDLER_METADATA, descriptor.value) ?? [];
    Reflect.defineMetadata(HANDLER_METADATA, Object.freeze([...existing, Object.freeze(metadata)]), descriptor.value);
  };
}

function checkPattern(decorator: string, code: 'WSG_ERR_DECORATOR_EVENT' | 'WSG_ERR_DECORATOR_INFO_TYPE', value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.length === 0) {
    throw new DecoratorError(code, `${decorator} takes a non-empty string or nothing (catch-all), got ${typeof value === 'string' ? '""' : typeof value}`);
  }
  return value;
}

/** Runs before the 101: returns `accept(state)`, `deny(status)`, a boolean, or throws an HttpException. */
export function OnAccept(): MethodDecorator {
  return handlerDecorator('@OnAccept()', { kind: 'accept', pattern: null });
}

/** Runs once the connection is open, before any message is handled. */
export function OnInit(): MethodDecorator {
  return handlerDecorator('@OnInit()', { kind: 'init', pattern: null });
}

/** Handles client messages of one event; with no event, every message no other handler takes. */
export function OnMessage(event?: string): MethodDecorator {
  return handlerDecorator('@OnMessage()', { kind: 'message', pattern: checkPattern('@OnMessage()', 'WSG_ERR_DECORATOR_EVENT', event) });
}

/** Handles infos sent through `hub.send(conn, type, data)`; with no type, every info no other handler takes. */
export function OnInfo(type?: string): MethodDecorator {
  return handlerDecorator('@OnInfo()', { kind: 'info', pattern: checkPattern('@OnInfo()', 'WSG_ERR_DECORATOR_INFO_TYPE', type) });
}

/** Runs exactly once when an accepted connection ends, whatever the path; `@Reason()` says why. */
export function OnClose(): MethodDecorator {
  return handlerDecorator('@OnClose()', { kind: 'close', pattern: null });
}
