// The IPC side every bench server shares, so a server file only says how to start its echo.
//
// A server file calls serveEchoChild(start), where
//   start({ host, maxMessageSize, recordError }) → Promise<{
//     port: number,
//     clientCount(): number,
//     close(): Promise<void>,
//     notes?: string[],        // shown in the report, e.g. "bufferutil: native"
//   }>
// and recordError(err) counts a server-side connection error by its code.
import { performance } from 'node:perf_hooks';

const MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
const CLOSE_TIMEOUT_MS = 5000;

function fullGc() {
  // Two passes: the first can leave weakly-held and finalizable garbage for the second.
  globalThis.gc();
  globalThis.gc();
}

export async function serveEchoChild(start) {
  if (typeof globalThis.gc !== 'function') throw new Error('bench servers must run with --expose-gc');
  // The orchestrator died or let go: nobody will ever ask us to stop.
  process.on('disconnect', () => process.exit(0));

  const errors = {};
  const recordError = (err) => {
    const code = err?.code ?? err?.name ?? 'unknown';
    errors[code] = (errors[code] ?? 0) + 1;
  };
  let uncaught = null;
  process.on('uncaughtException', (err) => {
    // Report instead of dying silently: a crash under load is a finding, not noise.
    uncaught = uncaught ?? String(err?.stack ?? err);
    recordError({ code: 'uncaughtException' });
  });

  let server;
  try {
    server = await start({ host: '127.0.0.1', maxMessageSize: MAX_MESSAGE_SIZE, recordError });
  } catch (err) {
    process.send({ type: 'failed', message: String(err?.stack ?? err) });
    process.exit(1);
  }

  const reply = (id, body) => process.send({ id, ...body });

  process.on('message', async (msg) => {
    try {
      switch (msg.cmd) {
        case 'stats':
          reply(msg.id, { cpu: process.cpuUsage(), at: performance.now(), errors, uncaught, clients: server.clientCount() });
          break;
        case 'memory':
          fullGc();
          reply(msg.id, { memory: process.memoryUsage(), clients: server.clientCount(), errors, uncaught });
          break;
        case 'close': {
          const started = performance.now();
          let timer;
          const outcome = await Promise.race([
            server.close().then(() => 'closed'),
            new Promise((resolve) => {
              timer = setTimeout(resolve, CLOSE_TIMEOUT_MS, 'timeout');
            }),
          ]);
          clearTimeout(timer);
          reply(msg.id, { outcome, ms: performance.now() - started, clientsLeft: server.clientCount() });
          break;
        }
        case 'exit':
          // Sent instead of SIGKILL when the orchestrator wants exit-time output (--cpu-prof).
          process.exit(0);
          break;
        default:
          reply(msg.id, { error: `unknown command ${msg.cmd}` });
      }
    } catch (err) {
      reply(msg.id, { error: String(err?.stack ?? err) });
    }
  });

  process.send({ type: 'ready', port: server.port, pid: process.pid, notes: server.notes ?? [] });
}
