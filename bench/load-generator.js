// The load generator, run as its own process (own event loop, own core). The orchestrator drives
// it over IPC: open → run → mark … → stop. See scenarios/*.js for the sequences.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { openWebSocket } from './load/client-handshake.js';
import { EchoClient } from './load/echo-client.js';
import { Op, encodeFrame, frameTrain } from './load/frame-bytes.js';
import { LoadStats, microsecondHistogram, summarize } from './load/load-stats.js';

const HOST = '127.0.0.1';

process.on('disconnect', () => process.exit(0));

const stats = new LoadStats();
let clients = [];

/**
 * The message every connection sends: `text` as given (json scenario), else `size` random bytes
 * or a chat-like text, which is more honest than 32 × 'a' for UTF-8 validation.
 */
function payload({ size, binary, text: given }) {
  if (given !== undefined) return Buffer.from(given, 'utf8');
  if (binary) return randomBytes(size);
  const text = '{"event":"chat","data":"' + 'hello wsgate '.repeat(Math.ceil(size / 13));
  return Buffer.from(text.slice(0, size - 2) + '"}', 'utf8').subarray(0, size);
}

async function open({ port, path = '/', count, concurrency, clientMasks, message, inFlight, timeoutMs }) {
  let firstN = [];
  let expected = null;
  if (message !== null && inFlight > 0) {
    expected = { opcode: message.binary ? Op.Binary : Op.Text, payload: payload(message) };
    firstN = frameTrain(encodeFrame(expected.opcode, expected.payload, clientMasks), inFlight);
  }
  const plan = { firstN, inFlight, masked: clientMasks, expected, stats };
  const handshakes = microsecondHistogram();
  const failures = {};
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const t = performance.now();
      try {
        const { socket, rest } = await openWebSocket({ host: HOST, port, path, timeoutMs });
        handshakes.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
        const client = new EchoClient(socket, plan);
        clients.push(client);
        if (rest.length > 0) client.onData(rest);
      } catch (err) {
        const kind = err.kind ?? err.message;
        failures[kind] = (failures[kind] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return {
    opened: count - Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
    elapsedMs: performance.now() - started,
    handshake: summarize(handshakes),
    open: clients.length,
  };
}

function run() {
  for (const client of clients) client.start();
  stats.mark();
  return {};
}

async function stop({ drainTimeoutMs, closeTimeoutMs }) {
  const drained = await Promise.all(clients.map((c) => c.drain(drainTimeoutMs)));
  const stuck = drained.filter((ok) => !ok).length;
  const lost = clients.reduce((sum, c) => sum + (c.state === 'closed' ? 0 : c.outstanding), 0);
  const outcomes = {};
  for (const outcome of await Promise.all(clients.map((c) => c.close(closeTimeoutMs)))) {
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  const masked = clients.reduce((sum, c) => sum + c.counter.maskedFrames, 0);
  if (masked > 0) stats.problem('server frames with the mask bit set', masked);
  clients = [];
  return { stuck, lost, closes: outcomes, problems: { ...stats.problems } };
}

const commands = {
  open,
  run,
  mark: () => stats.mark(),
  stop,
};

process.on('message', async (msg) => {
  try {
    const handler = commands[msg.cmd];
    if (handler === undefined) throw new Error(`unknown command ${msg.cmd}`);
    process.send({ id: msg.id, ...(await handler(msg)) });
  } catch (err) {
    process.send({ id: msg.id, error: String(err?.stack ?? err) });
  }
});

process.send({ type: 'ready', pid: process.pid });
