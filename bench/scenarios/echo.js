// Small-message throughput: many connections, a window of messages in flight on each.
import { measureSteadyEcho } from './steady-echo.js';
import { decimal, int, micros, percent } from '../report-format.js';

const CONNECTIONS = 50;
const IN_FLIGHT = 10;
const SIZE = 32;

export default {
  name: 'echo',
  title: `echo: ${CONNECTIONS} connections × ${IN_FLIGHT} in flight × ${SIZE} B text`,
  primary: { key: 'msgPerSec', label: 'msg/s', higherIsBetter: true },
  // Arbitrary text and binary: only servers that echo any message.
  fits: (entry) => entry.echoes === 'any',
  baselines: ['ws'],
  targets: [{ server: 'wsgate', baseline: 'ws', atLeast: 2 }],
  columns: [
    { header: 'msg/s', key: 'msgPerSec', format: int },
    { header: 'p50 µs', key: 'p50', format: int },
    { header: 'p99 µs', key: 'p99', format: int },
    { header: 'max µs', key: 'max', format: micros },
    { header: 'server CPU', key: 'serverCpu', format: percent },
    { header: 'server µs/msg', key: 'serverUsPerMsg', format: decimal },
    { header: 'gen CPU', key: 'generatorCpu', format: percent },
    { header: 'other CPU', key: 'otherCpu', format: percent },
  ],
  run: (context) =>
    measureSteadyEcho(context, {
      connections: CONNECTIONS,
      inFlight: IN_FLIGHT,
      message: { size: SIZE, binary: false },
    }),
};
