// Everything the run prints: a table per scenario, the targets, and a markdown summary for the
// README. Ratios are always <server>/<baseline> on the scenario's primary metric.
import { int, ratio, micros } from './report-format.js';

// Beyond this many cores of outside CPU during a window, the ratios mostly measure the neighbours.
const NOISY_OTHER_CORES = 0.25;

function ratiosAgainst(scenario, results, baseline) {
  const base = results.find((r) => r.server === baseline && r.metrics !== undefined);
  for (const r of results) {
    if (r.metrics === undefined || base === undefined) continue;
    r.ratio = r.metrics[scenario.primary.key] / base.metrics[scenario.primary.key];
    if (scenario.secondaryRatio !== undefined) {
      const { key, into } = scenario.secondaryRatio;
      r.metrics[into] = r.metrics[key] / base.metrics[key];
    }
  }
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function printScenario(scenario, results, baseline) {
  ratiosAgainst(scenario, results, baseline);
  const headers = ['server', ...scenario.columns.map((c) => c.header), `vs ${baseline}`];
  const rows = results
    .filter((r) => r.metrics !== undefined)
    .map((r) => [r.server, ...scenario.columns.map((c) => c.format(r.metrics[c.key])), ratio(r.ratio)]);
  console.log(`\n## ${scenario.title}`);
  if (scenario.note) console.log(scenario.note);
  if (rows.length > 0) console.log(table(headers, rows));
  const busiest = Math.max(0, ...results.map((r) => r.metrics?.otherCpu ?? 0));
  if (busiest > NOISY_OTHER_CORES) {
    console.log(
      `  warning: other processes used up to ${Math.round(busiest * 100)}% of a core during a window ` +
        '(or the kernel did loopback work for us); rerun on a quiet machine or with --rounds=3',
    );
  }
  for (const r of results) {
    if (r.failed !== undefined) console.log(`  ${r.server}: FAILED: ${r.failed}`);
    for (const p of r.problems ?? []) console.log(`  ${r.server}: ${p}`);
  }
}

function targetLine(scenario, results, baseline) {
  const { server, atLeast, atMost } = scenario.target;
  const row = results.find((r) => r.server === server);
  const bound = atLeast !== undefined ? `≥ ${atLeast}×` : `≤ ${atMost}×`;
  const label = `${scenario.name} ${scenario.primary.label} ${server}/${baseline}`;
  if (row === undefined || row.ratio === undefined) return `${label}: not measured (target ${bound})`;
  const met = atLeast !== undefined ? row.ratio >= atLeast : row.ratio <= atMost;
  return `${label}: ${ratio(row.ratio)} (target ${bound}) ${met ? 'MET' : 'MISSED'}`;
}

export function printTargets(done, baseline) {
  console.log('\n## Targets');
  for (const { scenario, results } of done) console.log(targetLine(scenario, results, baseline));
}

function headline(scenario, metrics) {
  const value = metrics[scenario.primary.key];
  return scenario.primary.key === 'mbPerSec' ? `${value.toFixed(1)} ${scenario.primary.label}` : `${int(value)} ${scenario.primary.label}`;
}

export function printMarkdown(done, baseline, environment) {
  const lines = [
    `| scenario | server | result | p50 µs | p99 µs | vs ${baseline} |`,
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const { scenario, results } of done) {
    for (const r of results) {
      if (r.metrics === undefined) {
        lines.push(`| ${scenario.name} | ${r.server} | failed | | | |`);
        continue;
      }
      lines.push(
        `| ${scenario.name} | ${r.server} | ${headline(scenario, r.metrics)} | ${micros(r.metrics.p50)} | ` +
          `${micros(r.metrics.p99)} | ${ratio(r.ratio)} |`,
      );
    }
  }
  console.log('\n## Markdown (paste into README)\n');
  console.log(lines.join('\n'));
  console.log(`\n_${environment}_`);
}
