// What the generator has seen since the last mark: echoes, their round trips, and every kind of
// trouble, counted by name so the report can say what went wrong, not just that something did.
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';

const MAX_TRACKED_US = 120_000_000;

export function microsecondHistogram() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_TRACKED_US, numberOfSignificantValueDigits: 3 });
}

export function summarize(histogram) {
  if (histogram.totalCount === 0) return { count: 0 };
  return {
    count: histogram.totalCount,
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
    mean: histogram.mean,
  };
}

export class LoadStats {
  constructor() {
    this.rtt = microsecondHistogram();
    this.messages = 0;
    /** cumulative, never reset: problems must survive the warm-up mark */
    this.problems = {};
    this.markedAt = performance.now();
    this.markedCpu = process.cpuUsage();
  }

  recordRtt(micros, count) {
    this.rtt.recordValueWithCount(micros < 1 ? 1 : micros > MAX_TRACKED_US ? MAX_TRACKED_US : Math.round(micros), count);
  }

  problem(kind, n = 1) {
    this.problems[kind] = (this.problems[kind] ?? 0) + n;
  }

  /** Everything since the previous mark, then start a new period. */
  mark() {
    const now = performance.now();
    const cpu = process.cpuUsage(this.markedCpu);
    const period = {
      elapsedMs: now - this.markedAt,
      messages: this.messages,
      rtt: summarize(this.rtt),
      cpuUs: cpu.user + cpu.system,
      problems: { ...this.problems },
    };
    this.rtt.reset();
    this.messages = 0;
    this.markedAt = now;
    this.markedCpu = process.cpuUsage();
    return period;
  }
}
