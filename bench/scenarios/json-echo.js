// Issue [B]'s echo: the Nest event message `{"event":"echo","data":"…"}` (32 B of data), answered
// with the same bytes by every server: the Nest apps route it to their `echo` handler and encode
// the reply; wsgate and ws just send the message back, as the floor a gateway is compared with.
import { STEADY_ECHO_COLUMNS, measureSteadyEcho } from './steady-echo.js';

const CONNECTIONS = 50;
const IN_FLIGHT = 10;
const DATA_SIZE = 32;
const DATA = 'hello wsgate '.repeat(Math.ceil(DATA_SIZE / 13)).slice(0, DATA_SIZE);
// Key order and spacing as JSON.stringify({ event, data }) writes them, so a Nest reply is the
// same bytes and the generator's byte-for-byte check of the first echo holds for every server.
const TEXT = JSON.stringify({ event: 'echo', data: DATA });
const SIZE = Buffer.byteLength(TEXT);

export default {
  name: 'json',
  title: `json: ${CONNECTIONS} connections × ${IN_FLIGHT} in flight × ${SIZE} B {"event":"echo","data":<${DATA_SIZE} B>}`,
  primary: { key: 'msgPerSec', label: 'msg/s', higherIsBetter: true },
  // Every echoing server answers this message with the same bytes (tcp stays in as the generator's ceiling).
  fits: (entry) => entry.echoes !== 'none',
  baselines: ['nest-platform-ws', 'ws'],
  targets: [
    { server: 'nest-wsgate', baseline: 'nest-platform-ws', atLeast: 3 },
    // Issue [F]: the gateway's JSON echo stays at least 2.5x bare ws.
    { server: 'nest-wsgate', baseline: 'ws', atLeast: 2.5 },
    // Issue [C]: the same @WebSocketGateway app, WsGateAdapter vs WsAdapter.
    { server: 'nest-wsgate-adapter', baseline: 'nest-platform-ws', atLeast: 2 },
  ],
  columns: STEADY_ECHO_COLUMNS,
  run: (context) =>
    measureSteadyEcho(context, {
      connections: CONNECTIONS,
      inFlight: IN_FLIGHT,
      message: { size: SIZE, binary: false, text: TEXT },
    }),
};
