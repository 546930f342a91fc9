// Counts the collections a `node --trace-gc` child prints, by kind, from its stdout. Issue [E]
// asks that large-message buffers die young: scavenges are cheap, a mark-compact per few messages
// means buffers (or their ArrayBuffer bookkeeping) reach old space or external-memory pressure
// forces full collections.
//
// V8 prints one line per collection, e.g.
//   [1234:0x5a…]     1021 ms: Scavenge 5.1 (6.8) -> 4.3 (7.8) MB, 0.9 / 0.0 ms  (average mu = …) allocation failure;
//   [1234:0x5a…]     2042 ms: Mark-Compact 8.0 (10.3) -> 5.2 (9.1) MB, 3.1 / 0.0 ms  (…) external memory pressure …
// (incremental marking steps print nothing of their own).

const KINDS = [
  ['markCompacts', / ms: Mark-Compact /],
  ['scavenges', / ms: Scavenge /],
];

export class GcTraceCount {
  constructor() {
    this.scavenges = 0;
    this.markCompacts = 0;
    /** Why the mark-compacts ran (the reason V8 prints after the timings), counted. */
    this.markCompactReasons = {};
    this.partial = '';
  }

  /** Feeds a piece of the child's stdout; lines may be split across pieces. */
  push(text) {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop();
    for (const line of lines) this.line(line);
  }

  line(line) {
    for (const [kind, pattern] of KINDS) {
      if (!pattern.test(line)) continue;
      this[kind]++;
      if (kind === 'markCompacts') {
        const reason = /\)\s+([^;()]*?)\s*(;|$)/.exec(line.slice(line.lastIndexOf('mu =')))?.[1] ?? 'unknown';
        this.markCompactReasons[reason] = (this.markCompactReasons[reason] ?? 0) + 1;
      }
      return;
    }
  }

  snapshot() {
    return { scavenges: this.scavenges, markCompacts: this.markCompacts, markCompactReasons: { ...this.markCompactReasons } };
  }
}

/** What happened between two snapshots, as a report line. */
export function gcWindow(before, after) {
  const reasons = Object.entries(after.markCompactReasons)
    .map(([reason, n]) => [reason, n - (before.markCompactReasons[reason] ?? 0)])
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ×${n}`);
  const markCompacts = after.markCompacts - before.markCompacts;
  return (
    `note: --trace-gc in the window: ${after.scavenges - before.scavenges} scavenges, ${markCompacts} mark-compacts` +
    (reasons.length > 0 ? ` (${reasons.join(', ')})` : '')
  );
}
