// Everything the run prints: a table per scenario, the targets, and a markdown summary for the
// README. Ratios are always <server>/<baseline> on the scenario's primary metric, one column per
// baseline the scenario names (scenario.baselines) that has a measured row in the run.
import { int, ratio, micros } from './report-format.js';

// Beyond this many cores of outside CPU during a window, the ratios mostly measure the neighbours.
const NOISY_OTHER_CORES = 0.25;

/** Fills r.ratios[baseline] (primary metric) and r.secondaryRatios[baseline]; returns the baselines present. */
function ratiosAgainst(scenario, results) {
  const present = [];
  for (const baseline of scenario.baselines) {
    const base = results.find((r) => r.server === baseline && r.metrics !== undefined);
    if (base === undefined) continue;
    present.push(baseline);
    for (const r of results) {
      if (r.metrics === undefined) continue;
      r.ratios ??= {};
      r.ratios[baseline] = r.metrics[scenario.primary.key] / base.metrics[scenario.primary.key];
      if (scenario.secondaryRatio !== undefined) {
        const { key } = scenario.secondaryRatio;
        r.secondaryRatios ??= {};
        r.secondaryRatios[baseline] = r.metrics[key] / base.metrics[key];
      }
    }
  }
  return present;
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function printScenario(scenario, results) {
  const baselines = ratiosAgainst(scenario, results);
  const secondary = scenario.secondaryRatio === undefined ? [] : baselines;
  const headers = [
    'server',
    ...scenario.columns.map((c) => c.header),
    ...secondary.map((b) => `${scenario.secondaryRatio.header} ×${b}`),
    ...baselines.map((b) => `vs ${b}`),
  ];
  const rows = results
    .filter((r) => r.metrics !== undefined)
    .map((r) => [
      r.server,
      ...scenario.columns.map((c) => c.format(r.metrics[c.key])),
      ...secondary.map((b) => ratio(r.secondaryRatios?.[b])),
      ...baselines.map((b) => ratio(r.ratios?.[b])),
    ]);
  console.log(`\n## ${scenario.title}`);
  if (scenario.note) console.log(scenario.note);
  if (rows.length > 0) console.log(table(headers, rows));
  const busiest = Math.max(0, ...results.map((r) => r.metrics?.otherCpu ?? 0));
  if (busiest > NOISY_OTHER_CORES) {
    console.log(
      `  warning: other processes used up to ${Math.round(busiest * 100)}% of a core during a window ` +
        '(see other CPU): those rows are not comparable; rerun on a quiet machine or with --rounds=3',
    );
  }
  for (const r of results) {
    if (r.failed !== undefined) console.log(`  ${r.server}: FAILED: ${r.failed}`);
    for (const p of r.problems ?? []) console.log(`  ${r.server}: ${p}`);
  }
}

function targetLines(scenario, results, target) {
  const { server, baseline, atLeast, atMost, alsoSecondary } = target;
  const row = results.find((r) => r.server === server);
  const bound = atLeast !== undefined ? `≥ ${atLeast}×` : `≤ ${atMost}×`;
  const label = `${scenario.name} ${scenario.primary.label} ${server}/${baseline}`;
  const value = row?.ratios?.[baseline];
  if (value === undefined) return [`${label}: not measured (target ${bound}; needs both servers in the run)`];
  const verdict = (v) => {
    const met = atLeast !== undefined ? v >= atLeast : v <= atMost;
    return `${ratio(v)} (target ${bound}) ${met ? 'MET' : 'MISSED'}`;
  };
  const lines = [`${label}: ${verdict(value)}`];
  const also = row.secondaryRatios?.[baseline];
  if (alsoSecondary && also !== undefined) {
    lines.push(`${scenario.name} ${scenario.secondaryRatio.label} ${server}/${baseline}: ${verdict(also)}`);
  }
  return lines;
}

export function printTargets(done) {
  console.log('\n## Targets');
  for (const { scenario, results } of done) {
    for (const target of scenario.targets) console.log(targetLines(scenario, results, target).join('\n'));
  }
}

function headline(scenario, metrics) {
  const value = metrics[scenario.primary.key];
  return scenario.primary.key === 'mbPerSec' ? `${value.toFixed(1)} ${scenario.primary.label}` : `${int(value)} ${scenario.primary.label}`;
}

function ratioCell(r) {
  return Object.entries(r.ratios ?? {})
    .map(([baseline, value]) => `${ratio(value)} ${baseline}`)
    .join(', ');
}

export function printMarkdown(done, environment) {
  const lines = ['| scenario | server | result | p50 µs | p99 µs | vs |', '|---|---|---:|---:|---:|---|'];
  for (const { scenario, results } of done) {
    for (const r of results) {
      if (r.metrics === undefined) {
        lines.push(`| ${scenario.name} | ${r.server} | failed | | | |`);
        continue;
      }
      lines.push(
        `| ${scenario.name} | ${r.server} | ${headline(scenario, r.metrics)} | ${micros(r.metrics.p50)} | ` +
          `${micros(r.metrics.p99)} | ${ratioCell(r)} |`,
      );
    }
  }
  console.log('\n## Markdown (paste into README)\n');
  console.log(lines.join('\n'));
  console.log(`\n_${environment}_`);
}
