// Small-message throughput: many connections, a window of messages in flight on each.
import { STEADY_ECHO_COLUMNS, measureSteadyEcho } from './steady-echo.js';

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
  // Issue [E]: small echo stays at 3× ws or more.
  targets: [{ server: 'wsgate', baseline: 'ws', atLeast: 3 }],
  columns: STEADY_ECHO_COLUMNS,
  run: (context) =>
    measureSteadyEcho(context, {
      connections: CONNECTIONS,
      inFlight: IN_FLIGHT,
      message: { size: SIZE, binary: false },
    }),
};
