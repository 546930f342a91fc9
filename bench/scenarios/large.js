// Bulk throughput: 1 MiB binary messages, one in flight per connection, so the server has to
// take in, unmask and write back a whole message each time.
import { measureSteadyEcho } from './steady-echo.js';
import { int, decimal, micros, percent } from '../report-format.js';

const CONNECTIONS = 4;
const IN_FLIGHT = 1;
const SIZE = 1024 * 1024;

export default {
  name: 'large',
  title: `large: ${CONNECTIONS} connections × ${IN_FLIGHT} in flight × 1 MiB binary`,
  primary: { key: 'mbPerSec', label: 'MiB/s', higherIsBetter: true },
  // Arbitrary text and binary: only servers that echo any message.
  fits: (entry) => entry.echoes === 'any',
  baselines: ['ws'],
  targets: [{ server: 'wsgate', baseline: 'ws', atLeast: 1 }],
  columns: [
    { header: 'MiB/s', key: 'mbPerSec', format: decimal },
    { header: 'msg/s', key: 'msgPerSec', format: int },
    { header: 'p50 µs', key: 'p50', format: int },
    { header: 'p99 µs', key: 'p99', format: int },
    { header: 'max µs', key: 'max', format: micros },
    { header: 'server CPU', key: 'serverCpu', format: percent },
    { header: 'gen CPU', key: 'generatorCpu', format: percent },
    { header: 'other CPU', key: 'otherCpu', format: percent },
  ],
  run: (context) =>
    measureSteadyEcho(context, {
      connections: CONNECTIONS,
      inFlight: IN_FLIGHT,
      message: { size: SIZE, binary: true },
    }),
};
