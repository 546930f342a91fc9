import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { PushLoader, PushResource } from '../http2/push-service.js';

/** Content types of what pages preload; anything else goes as octet-stream. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/**
 * Serves pushed paths as files under `root`. A path that resolves outside `root` (`..`,
 * encoded or not) or names no regular file has no resource (null), never an error.
 */
export function fileLoader(root: string): PushLoader {
  const base = resolve(root);
  return async (path: string): Promise<PushResource | null> => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path.split('?')[0]!);
    } catch (error) {
      if (error instanceof URIError) return null;
      throw error;
    }
    const file = resolve(base, `.${decoded}`);
    if (file !== base && !file.startsWith(base + sep)) return null;
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return null;
      throw error;
    }
    return { headers: { 'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': body.length }, body };
  };
}
