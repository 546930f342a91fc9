// Reads a V8 .cpuprofile (from `run.js --cpu-prof`) and prints where the time went: the
// functions with the most self time, then self time summed per source file.
//   node bench/profile-top.js FILE [--top=25]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const [file, ...rest] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/profile-top.js FILE.cpuprofile [--top=25]');
  process.exit(2);
}
const top = Number(/^--top=(\d+)$/.exec(rest[0] ?? '')?.[1] ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));

function where(url) {
  if (url === '') return '';
  if (!url.startsWith('file://')) return url;
  const path = fileURLToPath(url);
  return path.startsWith(process.cwd()) ? relative(process.cwd(), path) : path;
}

// Samples are counted per node; time deltas make them durations.
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const byFunction = new Map();
const byFile = new Map();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const source = where(url);
  const name = `${functionName || '(anonymous)'}  ${source}${source ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const fileKey = source || functionName;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
}

const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
const print = (title, map, n) => {
  console.log(`\n${title}`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)}  ${name}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
print(`self time, top ${top} functions`, byFunction, top);
print('self time per file, top 20', byFile, 20);
