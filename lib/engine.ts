// The `wsgate/engine` entry: the frame engine and the HTTP/2 roads, nothing of Nest or rxjs.
// For tools and servers that want WebSockets without a Nest app (the `wsgate` CLI is built on it).
export * from './frames/index.js';
export * from './http2/index.js';
