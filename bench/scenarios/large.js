// Large messages (issue [E]): 64 KiB and 1 MiB, text and binary, many echoes in flight, so the
// server keeps taking in, unmasking, validating (text) and writing back whole messages.
import { STEADY_ECHO_COLUMNS, measureSteadyEcho } from './steady-echo.js';
import { decimal } from '../report-format.js';

const CONNECTIONS = 8;
const IN_FLIGHT = 2;
const KiB = 1024;
const MiB = 1024 * 1024;

// Chat-like text with 1-, 2-, 3- and 4-byte code points: the validator sees real UTF-8 (not an
// ASCII fast path only), and socket reads end inside code points, as they do in the field.
const LINE = '{"from":"zoë","text":"héllo wsgate ✓ — 你好 🙂 naïve café"}\n';

/** Exactly `size` bytes of valid UTF-8: whole lines, then whole code points, then spaces. */
export function utf8Text(size) {
  const lineBytes = Buffer.byteLength(LINE);
  let text = LINE.repeat(Math.floor(size / lineBytes));
  let left = size - Buffer.byteLength(text);
  for (const ch of LINE) {
    const n = Buffer.byteLength(ch);
    if (n > left) break;
    text += ch;
    left -= n;
  }
  text += ' '.repeat(left);
  if (Buffer.byteLength(text) !== size) throw new Error(`utf8Text(${size}) made ${Buffer.byteLength(text)} bytes`);
  return text;
}

function largeScenario({ label, size, binary }) {
  const kind = binary ? 'binary' : 'text';
  const message = binary ? { size, binary } : { size, binary, text: utf8Text(size) };
  return {
    name: `large-${kind}-${label}`,
    group: 'large',
    title: `large-${kind}-${label}: ${CONNECTIONS} connections × ${IN_FLIGHT} in flight × ${label === '1m' ? '1 MiB' : '64 KiB'} ${binary ? 'binary' : 'UTF-8 text (mixed 1–4 byte code points)'}`,
    primary: { key: 'mbPerSec', label: 'MiB/s', higherIsBetter: true },
    // Arbitrary text and binary: only servers that echo any message.
    fits: (entry) => entry.echoes === 'any',
    baselines: ['ws'],
    targets: [{ server: 'wsgate', baseline: 'ws', atLeast: 1 }],
    columns: [{ header: 'MiB/s', key: 'mbPerSec', format: decimal }, ...STEADY_ECHO_COLUMNS],
    run: (context) => measureSteadyEcho(context, { connections: CONNECTIONS, inFlight: IN_FLIGHT, message }),
  };
}

/** The four rows, in report order; `--only=large` picks all of them (their `group`). */
export default [
  largeScenario({ label: '64k', size: 64 * KiB, binary: false }),
  largeScenario({ label: '64k', size: 64 * KiB, binary: true }),
  largeScenario({ label: '1m', size: MiB, binary: false }),
  largeScenario({ label: '1m', size: MiB, binary: true }),
];
