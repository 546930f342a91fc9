#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  Limits,
  WsClient,
  WsServer,
  type ConnectionOptions,
  type SendQueuePolicy,
  type WebSocketConnection,
  Http2WsServer,
  createSelfSignedCertificate,
  type Http2WsConnectionInfo,
} from '../lib/engine.js';

/** Conformance suites send messages up to 16 MiB; the echo tool allows 64 MiB by default. */
const ECHO_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

const LIMIT_FLAGS = {
  'max-message-size': { type: 'string' },
  'max-frame-size': { type: 'string' },
  'max-send-queue': { type: 'string' },
  'send-queue-policy': { type: 'string' },
  'send-low-water-mark': { type: 'string' },
  'max-pending-pongs': { type: 'string' },
  'max-receive-queue': { type: 'string' },
  'close-timeout': { type: 'string' },
  'ping-interval': { type: 'string' },
  'pong-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'accept-unmasked-frames': { type: 'boolean' },
  'decode-text': { type: 'boolean' },
} as const;

const ECHO_HELP = `Usage: wsgate echo [options]

Starts an engine-only WebSocket echo server: text back as text, binary as binary,
close echoed. Prints its URL. Stops on SIGINT/SIGTERM.

Options:
  --port <n>                  port to listen on (default 9001; 0 = any free port)
  --host <addr>               address to bind (default 127.0.0.1)
  --path <p>                  accept upgrades only on this path (default: any)
  --deflate                   enable permessage-deflate (RFC 7692)
  --http2                     serve over TLS: HTTP/1.1 upgrades and RFC 8441 extended
                              CONNECT (HTTP/2) on the same port; prints a wss:// URL
  --cert <file> --key <file>  PEM certificate and key for --http2 (default: a self-signed
                              certificate made at start with openssl)
  --max-message-size <bytes>  default ${ECHO_MAX_MESSAGE_SIZE} (64 MiB, suits conformance testing)
  --max-frame-size <bytes>    default: max-message-size
  --max-send-queue <bytes>    default ${Limits.maxSendQueue.default}
  --send-queue-policy <p>     close | drop | error (default close: 1013 once maxSendQueue is crossed)
  --send-low-water-mark <bytes>  default ${Limits.sendLowWaterMark.default}
  --max-pending-pongs <n>     default ${Limits.maxPendingPongs.default}
  --max-receive-queue <n>     default ${Limits.maxReceiveQueue.default}
  --close-timeout <ms>        default ${Limits.closeTimeout.default}
  --ping-interval <ms>        heartbeat; default 0 (off)
  --pong-timeout <ms>         default ${Limits.pongTimeout.default}
  --idle-timeout <ms>         default 0 (off)
  --accept-unmasked-frames    accept unmasked client frames (breaks RFC 6455; testing only)
  --decode-text               decode each text message to a string and encode it back
                              (default: echo its validated UTF-8 bytes as they came)
  -q, --quiet                 do not log connections
  -h, --help                  show this help
`;

const CONNECT_HELP = `Usage: wsgate connect <ws://host:port/path> [options]

Interactive client (like wscat). Lines you type are sent as text messages; received
messages are printed. Commands: /ping [data]  /close [code] [reason]  /binary <hex>  /quit

Options:
  -p, --protocol <name>       offer a subprotocol (repeatable)
  --http2                     open with an RFC 8441 extended CONNECT over HTTP/2
  -k, --insecure              wss: do not verify the server's certificate
  -H, --header <k:v>          extra request header (repeatable)
  --deflate                   offer permessage-deflate
  --max-message-size <bytes>  default ${Limits.maxMessageSize.default}
  -h, --help                  show this help
`;

const TOP_HELP = `Usage: wsgate <command> [options]

Commands:
  echo      start an engine-only echo server (conformance and load testing)
  connect   interactive WebSocket client

Run 'wsgate <command> --help' for a command's options.
`;

function intFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got ${value}`);
  return n;
}

class UsageError extends Error {}

function limitOptions(values: Record<string, string | boolean | string[] | undefined>, maxMessageDefault: number): ConnectionOptions {
  const options: ConnectionOptions = {
    maxMessageSize: intFlag('max-message-size', values['max-message-size'] as string | undefined) ?? maxMessageDefault,
  };
  const map: Array<[keyof typeof LIMIT_FLAGS, keyof ConnectionOptions]> = [
    ['max-frame-size', 'maxFrameSize'],
    ['max-send-queue', 'maxSendQueue'],
    ['send-low-water-mark', 'sendLowWaterMark'],
    ['max-pending-pongs', 'maxPendingPongs'],
    ['max-receive-queue', 'maxReceiveQueue'],
    ['close-timeout', 'closeTimeout'],
    ['ping-interval', 'pingInterval'],
    ['pong-timeout', 'pongTimeout'],
    ['idle-timeout', 'idleTimeout'],
  ];
  for (const [flag, key] of map) {
    const n = intFlag(flag, values[flag] as string | undefined);
    if (n !== undefined) (options as Record<string, unknown>)[key] = n;
  }
  const policy = values['send-queue-policy'];
  if (policy !== undefined) options.sendQueuePolicy = policy as SendQueuePolicy;
  if (values['accept-unmasked-frames'] === true) options.acceptUnmaskedFrames = true;
  // An echo has no use for a string: text goes back as the bytes it came in (validated all the
  // same). --decode-text is the engine's default path, for measuring or checking it.
  options.decodeText = values['decode-text'] === true;
  return options;
}

async function runEcho(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...LIMIT_FLAGS,
      port: { type: 'string' },
      host: { type: 'string' },
      path: { type: 'string' },
      deflate: { type: 'boolean' },
      http2: { type: 'boolean' },
      cert: { type: 'string' },
      key: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(ECHO_HELP);
    return;
  }
  if (values.http2) {
    await runHttp2Echo(values);
    return;
  }
  if (values.cert !== undefined || values.key !== undefined) throw new UsageError('--cert and --key need --http2');
  const server = new WsServer({
    ...limitOptions(values, ECHO_MAX_MESSAGE_SIZE),
    port: intFlag('port', values.port) ?? 9001,
    host: values.host ?? '127.0.0.1',
    ...(values.path !== undefined ? { path: values.path } : {}),
    perMessageDeflate: values.deflate === true,
  });
  server.on('connection', (conn: WebSocketConnection) => {
    if (!values.quiet) process.stderr.write(`connection ${conn.id} ${conn.extensions}\n`);
    echoMessages(conn);
  });
  const address = await server.listen();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  process.stdout.write(`wsgate echo listening on ws://${host}:${address.port}${values.path ?? '/'}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * Echoes every message, with back-pressure instead of loss: when an echo leaves the send
 * queue over its low-water mark, reading from that client pauses until the queue drains, so a
 * client that stops reading is held back by TCP and loses nothing. A send below maxSendQueue
 * is admitted whole, so one message of any size (up to maxMessageSize) is always echoed.
 */
function echoMessages(conn: WebSocketConnection): void {
  conn.on('message', (data: string | Buffer, isBinary: boolean) => {
    if (!conn.isOpen) return;
    // Text may come as a string or (without --decode-text) as bytes: binary: false keeps it text.
    if (conn.send(data, { binary: isBinary }) === 'queued') {
      conn.pause();
      void conn.drain().then(() => conn.resume());
    }
  });
}

type EchoValues = Record<string, string | boolean | string[] | undefined> & {
  port?: string;
  host?: string;
  path?: string;
  deflate?: boolean;
  cert?: string;
  key?: string;
  quiet?: boolean;
};

async function runHttp2Echo(values: EchoValues): Promise<void> {
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
  let tls: { key: string | Buffer; cert: string | Buffer };
  if (values.cert !== undefined && values.key !== undefined) {
    tls = { cert: await readFile(values.cert), key: await readFile(values.key) };
  } else {
    tls = await createSelfSignedCertificate();
    process.stderr.write('wsgate: using a self-signed certificate made at start (for localhost and 127.0.0.1); clients must skip verification or pass --cert/--key\n');
  }
  const server = new Http2WsServer({
    ...limitOptions(values, ECHO_MAX_MESSAGE_SIZE),
    ...tls,
    port: intFlag('port', values.port) ?? 9001,
    host: values.host ?? '127.0.0.1',
    ...(values.path !== undefined ? { path: values.path } : {}),
    perMessageDeflate: values.deflate === true,
  });
  server.on('connection', (conn: WebSocketConnection, info: Http2WsConnectionInfo) => {
    if (!values.quiet) process.stderr.write(`connection ${conn.id} ${info.road} ${info.path} ${conn.extensions}\n`);
    echoMessages(conn);
  });
  const address = await server.listen();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  process.stdout.write(`wsgate echo listening on wss://${host}:${address.port}${values.path ?? '/'}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function runConnect(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      protocol: { type: 'string', short: 'p', multiple: true },
      header: { type: 'string', short: 'H', multiple: true },
      deflate: { type: 'boolean' },
      http2: { type: 'boolean' },
      insecure: { type: 'boolean', short: 'k' },
      'max-message-size': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help || positionals.length !== 1) {
    process.stdout.write(CONNECT_HELP);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--header must be name:value, got ${h}`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const conn = await WsClient.connect(positionals[0]!, {
    protocols: values.protocol ?? [],
    headers,
    perMessageDeflate: values.deflate === true,
    maxMessageSize: intFlag('max-message-size', values['max-message-size']) ?? Limits.maxMessageSize.default,
    http2: values.http2 === true,
    rejectUnauthorized: values.insecure !== true,
  });
  process.stdout.write(`connected${conn.protocol ? ` (protocol ${conn.protocol})` : ''}${conn.extensions ? ` [${conn.extensions}]` : ''}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' });
  conn.on('message', (data: string | Buffer, isBinary: boolean) => {
    process.stdout.write(isBinary ? `< <binary ${(data as Buffer).length} bytes> ${(data as Buffer).subarray(0, 32).toString('hex')}\n` : `< ${data as string}\n`);
    rl.prompt(true);
  });
  conn.on('pong', (data: Buffer) => process.stdout.write(`< pong ${data.toString('utf8')}\n`));
  conn.on('close', (info: { code: number; reason: string }) => {
    process.stdout.write(`closed ${info.code} ${info.reason}\n`);
    rl.close();
  });
  rl.on('line', (line) => {
    try {
      if (line === '/quit') conn.close();
      else if (line.startsWith('/ping')) conn.ping(line.slice(6));
      else if (line.startsWith('/close')) {
        const [, code, ...reason] = line.split(' ');
        conn.close(code ? Number(code) : 1000, reason.join(' '));
      } else if (line.startsWith('/binary ')) conn.send(Buffer.from(line.slice(8).replace(/\s+/g, ''), 'hex'));
      else conn.send(line);
    } catch (error) {
      process.stdout.write(`! ${(error as Error).message}\n`);
    }
    rl.prompt();
  });
  rl.on('close', () => {
    if (conn.isOpen) conn.close();
  });
  rl.prompt();
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'echo':
      return runEcho(rest);
    case 'connect':
      return runConnect(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(TOP_HELP);
      return;
    default:
      throw new UsageError(`Unknown command ${command}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`wsgate: ${(error as Error).message}\nRun 'wsgate --help'.\n`);
    process.exit(2);
  }
  process.stderr.write(`wsgate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
