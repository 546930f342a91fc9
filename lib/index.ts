/**
 * wsgate — real-time gateways for NestJS 12 on an RFC 6455 / RFC 8441 engine of its own.
 *
 * This is the public surface; everything else under lib/ is internal.
 * @packageDocumentation
 */
export * from './frames/index.js';
export * from './hub/index.js';
export * from './gateway/index.js';
export * from './http2/index.js';
