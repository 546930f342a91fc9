// How busy the whole machine was during a window, so the report can tell a slow server from a
// server that shared its core with someone else's test run. Linux only (/proc/stat); elsewhere
// every reading is null and the report shows "—".
import { readFileSync } from 'node:fs';

const USER_HZ = 100;

/** Busy and total CPU time of the whole machine so far, in seconds (all cores summed). */
export function hostCpu() {
  let line;
  try {
    line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0];
  } catch {
    return null;
  }
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / USER_HZ, total: (busy + idle + iowait) / USER_HZ };
}

/**
 * Cores' worth of CPU used by everything except the bench's own server and generator
 * (given in cores) between two hostCpu() readings over `seconds` of wall time.
 */
export function otherCores(before, after, seconds, ownCores) {
  if (before === null || after === null || seconds <= 0) return null;
  return Math.max(0, (after.busy - before.busy) / seconds - ownCores);
}
