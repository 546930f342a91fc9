import { DecoratorError } from './errors.js';

/** Path parameters taken from the upgrade request's URL, by name. */
export type WsPathParams = Readonly<Record<string, string>>;

/** A compiled gateway path: `/rooms/:room` matches `/rooms/lobby` with `{ room: 'lobby' }`. */
export interface PathMatcher {
  /** The path as declared, normalized (no trailing slash). */
  readonly path: string;
  /** The path with parameter names erased, so `/a/:x` and `/a/:y` compare equal. */
  readonly shape: string;
  readonly paramNames: readonly string[];
  readonly isStatic: boolean;
  /** Params for a matching (URL-encoded) pathname, or null. */
  match(pathname: string): WsPathParams | null;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STATIC_SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,;=@%]+$/;
const NO_PARAMS: WsPathParams = Object.freeze({});

/** Drops one trailing slash (not the root's), so `/echo/` and `/echo` are one path. */
export function normalizePathname(pathname: string): string {
  return pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
}

/** Checks and compiles a declared path. Throws `WSG_ERR_DECORATOR_PATH`. */
export function compilePath(path: unknown): PathMatcher {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new DecoratorError('WSG_ERR_DECORATOR_PATH', `A gateway path must be a string starting with "/", got ${describe(path)}`);
  }
  const normalized = normalizePathname(path);
  if (normalized === '/') return staticMatcher('/');
  const segments = normalized.slice(1).split('/');
  const paramNames: string[] = [];
  for (const segment of segments) {
    if (segment.startsWith(':')) {
      const name = segment.slice(1);
      if (!PARAM_NAME.test(name)) {
        throw new DecoratorError('WSG_ERR_DECORATOR_PATH', `Path ${path}: parameter ":${name}" must be an identifier`);
      }
      if (paramNames.includes(name)) {
        throw new DecoratorError('WSG_ERR_DECORATOR_PATH', `Path ${path}: parameter ":${name}" appears twice`);
      }
      paramNames.push(name);
    } else if (!STATIC_SEGMENT.test(segment)) {
      throw new DecoratorError('WSG_ERR_DECORATOR_PATH', `Path ${path}: segment "${segment}" is empty or has characters a URL path cannot hold`);
    }
  }
  if (paramNames.length === 0) return staticMatcher(normalized);
  return paramMatcher(normalized, segments);
}

function staticMatcher(path: string): PathMatcher {
  return Object.freeze({
    path,
    shape: path,
    paramNames: Object.freeze([]),
    isStatic: true,
    match: (pathname: string) => (normalizePathname(pathname) === path ? NO_PARAMS : null),
  });
}

function paramMatcher(path: string, segments: readonly string[]): PathMatcher {
  const names: (string | null)[] = segments.map((s) => (s.startsWith(':') ? s.slice(1) : null));
  const shape = '/' + segments.map((s) => (s.startsWith(':') ? ':' : s)).join('/');
  const match = (pathname: string): WsPathParams | null => {
    const parts = normalizePathname(pathname).slice(1).split('/');
    if (parts.length !== segments.length) return null;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const name = names[i];
      const part = parts[i]!;
      if (name === null || name === undefined) {
        if (part !== segments[i]) return null;
        continue;
      }
      if (part.length === 0) return null;
      try {
        params[name] = decodeURIComponent(part);
      } catch (error) {
        // A malformed escape cannot name anything this gateway serves.
        if (error instanceof URIError) return null;
        throw error;
      }
    }
    return Object.freeze(params);
  };
  return Object.freeze({
    path,
    shape,
    paramNames: Object.freeze(names.filter((n): n is string => n !== null)),
    isStatic: false,
    match,
  });
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}
