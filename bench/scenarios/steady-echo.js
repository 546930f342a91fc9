// The measurement loop shared by `echo`, `json` and the `large-*` rows: connect, warm up, measure one window,
// then drain and close politely so the closing handshake is checked too.
import { problemsOf, sleep } from './outcome.js';
import { hostCpu, otherCores } from '../host-load.js';
import { gcWindow } from '../gc-trace-count.js';
import { decimal, int, micros, percent } from '../report-format.js';

/** The columns every steady-echo scenario prints after its primary figure. */
export const STEADY_ECHO_COLUMNS = [
  { header: 'msg/s', key: 'msgPerSec', format: int },
  { header: 'p50 µs', key: 'p50', format: int },
  { header: 'p99 µs', key: 'p99', format: int },
  { header: 'max µs', key: 'max', format: micros },
  { header: 'server CPU', key: 'serverCpu', format: percent },
  { header: 'server µs/msg', key: 'serverUsPerMsg', format: decimal },
  { header: 'gen CPU', key: 'generatorCpu', format: percent },
  { header: 'other CPU', key: 'otherCpu', format: percent },
];

const HANDSHAKE_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 5_000;
const CLOSE_TIMEOUT_MS = 5_000;

function cpuMicros(usage) {
  return usage.user + usage.system;
}

export async function measureSteadyEcho({ server, generator, entry, options }, { connections, inFlight, message }) {
  const opened = await generator.request({
    cmd: 'open',
    port: server.port,
    path: entry.path ?? '/',
    count: connections,
    concurrency: connections,
    clientMasks: entry.clientMasks,
    message,
    inFlight,
    timeoutMs: HANDSHAKE_TIMEOUT_MS,
  });
  if (opened.opened < connections) {
    throw new Error(`only ${opened.opened}/${connections} connections opened: ${JSON.stringify(opened.failures)}`);
  }

  await generator.request({ cmd: 'run' });
  await sleep(options.warmupMs);
  await generator.request({ cmd: 'mark' });
  const before = await server.request({ cmd: 'stats' });
  const gcBefore = server.gcTrace?.snapshot();
  const hostBefore = hostCpu();
  await sleep(options.durationMs);
  const period = await generator.request({ cmd: 'mark' });
  const after = await server.request({ cmd: 'stats' });
  // The trace lines come over a pipe, the stats reply over IPC: the window's edges are ±1 line.
  const gcAfter = server.gcTrace?.snapshot();
  const hostAfter = hostCpu();
  const stopped = await generator.request(
    { cmd: 'stop', drainTimeoutMs: DRAIN_TIMEOUT_MS, closeTimeoutMs: CLOSE_TIMEOUT_MS },
    DRAIN_TIMEOUT_MS + CLOSE_TIMEOUT_MS + 10_000,
  );

  const seconds = period.elapsedMs / 1000;
  const serverCpu = (cpuMicros(after.cpu) - cpuMicros(before.cpu)) / ((after.at - before.at) * 1000);
  const generatorCpu = period.cpuUs / (period.elapsedMs * 1000);
  const problems = problemsOf({
    generatorProblems: stopped.problems,
    closes: stopped.closes,
    stuck: stopped.stuck,
    lost: stopped.lost,
    server: after,
  });
  if (gcBefore !== undefined) problems.push(gcWindow(gcBefore, gcAfter));
  return {
    metrics: {
      msgPerSec: period.messages / seconds,
      mbPerSec: (period.messages * message.size) / seconds / (1024 * 1024),
      messages: period.messages,
      p50: period.rtt.p50,
      p99: period.rtt.p99,
      max: period.rtt.max,
      serverCpu,
      // CPU time per echo: unlike msg/s, hardly moved when other processes share the server's core.
      serverUsPerMsg: period.messages > 0 ? (serverCpu * seconds * 1e6) / period.messages : undefined,
      generatorCpu,
      otherCpu: otherCores(hostBefore, hostAfter, seconds, serverCpu + generatorCpu),
    },
    problems,
  };
}
