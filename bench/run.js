// The benchmark orchestrator: every selected scenario against every selected server, each pair
// with a fresh server process (core 0) and a fresh load generator process (core 1), then one
// report. It measures; it never fails a build. See bench/README.md.
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { groupsOf, parseOptions, USAGE } from './bench-options.js';
import { SupervisedChild, canPin, childFdLimit } from './supervised-child.js';
import { SERVERS } from './server-registry.js';
import { printMarkdown, printScenario, printTargets } from './report.js';
import echo from './scenarios/echo.js';
import json from './scenarios/json-echo.js';
import large from './scenarios/large.js';
import idle from './scenarios/idle.js';

const SCENARIOS = [echo, json, ...large, idle];
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_DIR = dirname(BENCH_DIR);
const SERVER_CPU = 0;
const GENERATOR_CPU = 1;
const START_TIMEOUT_MS = 20_000;
const SERVER_CLOSE_REPLY_MS = 15_000;
// V8 writes a --cpu-prof profile when the process exits; a big one takes a moment.
const PROFILE_WRITE_MS = 15_000;
// Each side needs a few descriptors beyond its sockets (stdio, IPC, epoll, libuv pipes).
const FD_HEADROOM = 100;

let options;
try {
  options = parseOptions(process.argv.slice(2), process.env, {
    scenarios: SCENARIOS.map((s) => s.name),
    groups: groupsOf(SCENARIOS),
    servers: SERVERS.map((s) => s.name),
  });
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}

const fdLimit = childFdLimit();
const idleConnections = Math.min(options.idleConnections, fdLimit.actual - FD_HEADROOM);
const runOptions = { ...options, idleConnections };

const environment =
  `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ` +
  `${canPin() ? 'server pinned to core 0, generator to core 1' : 'no CPU pinning'}, ` +
  `${options.durationMs / 1000} s measured after ${options.warmupMs / 1000} s warm-up per scenario and server` +
  (options.rounds > 1 ? `, quietest (idle: median) of ${options.rounds} interleaved rounds` : '');

console.log(`# wsgate bench\n${environment}`);
console.log(`fd limit for children: ${fdLimit.actual} (asked for ${fdLimit.wanted})`);
if (options.cpuProfDir !== null) {
  console.log(`cpu profiles of the servers go to ${options.cpuProfDir} (profiled runs are slower: compare nothing across them)`);
}
if (options.scenarios.includes('idle') && idleConnections < options.idleConnections) {
  console.log(`idle: fd limit too low for ${options.idleConnections} connections, using ${idleConnections}`);
}

async function measure(scenario, entry, round) {
  if (entry.needs !== undefined && !existsSync(join(REPO_DIR, entry.needs))) {
    return { server: entry.name, failed: `${entry.needs} not found (run \`npm run build\` first)` };
  }
  let server = null;
  let generator = null;
  try {
    server = new SupervisedChild(join(BENCH_DIR, entry.file), {
      name: `${entry.name} server`,
      cpu: SERVER_CPU,
      verbose: options.verbose,
      traceGc: options.traceGc,
      nodeArgs: options.cpuProfDir === null ? [] : profileArgs(scenario, entry, round),
    });
    const ready = await server.waitFor('ready', START_TIMEOUT_MS);
    server.port = ready.port;
    generator = new SupervisedChild(join(BENCH_DIR, 'load-generator.js'), {
      name: 'load generator',
      cpu: GENERATOR_CPU,
      verbose: options.verbose,
    });
    await generator.waitFor('ready', START_TIMEOUT_MS);

    const outcome = await scenario.run({ server, generator, entry, options: runOptions });
    const closed = await server.request({ cmd: 'close' }, SERVER_CLOSE_REPLY_MS);
    if (closed.outcome !== 'closed') {
      outcome.problems.push(`server close() did not resolve in time (${closed.clientsLeft} clients left)`);
    }
    for (const note of ready.notes) outcome.problems.push(`note: ${note}`);
    return { server: entry.name, ...outcome };
  } catch (err) {
    return { server: entry.name, failed: err.message };
  } finally {
    // A profiled server must exit by itself: SIGKILL would lose the profile.
    const stopServer = options.cpuProfDir === null ? server?.kill() : server?.exitGracefully(PROFILE_WRITE_MS);
    await Promise.all([stopServer, generator?.kill()]);
  }
}

function profileArgs(scenario, entry, round) {
  const name = `${entry.name}-${scenario.name}${options.rounds > 1 ? `-round${round}` : ''}.cpuprofile`;
  return ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`, `--cpu-prof-name=${name}`];
}

/**
 * One result per server out of several rounds, all columns from the same run: the run the
 * rest of the machine disturbed least (outside load is what makes runs differ here), or,
 * where that is not measured (idle), the run with the median headline metric. Problems
 * from every round are kept.
 */
function pickRun(scenario, runs) {
  const measured = runs.filter((r) => r.metrics !== undefined);
  if (measured.length === 0) return runs[0];
  const problems = [...new Set(runs.flatMap((r) => r.problems ?? [`FAILED in one round: ${r.failed}`]))];
  let chosen;
  if (measured.every((r) => typeof r.metrics.otherCpu === 'number')) {
    chosen = measured.reduce((best, r) => (r.metrics.otherCpu < best.metrics.otherCpu ? r : best));
  } else {
    const key = scenario.primary.key;
    measured.sort((a, b) => a.metrics[key] - b.metrics[key]);
    chosen = measured[Math.floor((measured.length - 1) / 2)];
  }
  return { ...chosen, problems, rounds: runs.length };
}

const started = performance.now();
const done = [];
try {
  for (const scenario of SCENARIOS.filter((s) => options.scenarios.includes(s.name))) {
    const entries = options.servers.map((name) => SERVERS.find((s) => s.name === name));
    const fitting = entries.filter((entry) => scenario.fits(entry));
    const skipped = entries.filter((entry) => !scenario.fits(entry)).map((entry) => entry.name);
    const notFor = `${scenario.name}: not for ${skipped.join(', ')} (they do not echo every message; see server-registry.js echoes)`;
    if (fitting.length === 0) {
      console.log(`\n## ${notFor}`);
      continue;
    }
    if (skipped.length > 0) console.error(`… ${notFor}`);
    const runs = new Map(fitting.map((entry) => [entry.name, []]));
    // Rounds interleave the servers, so a burst of outside load hits them alike.
    for (let round = 1; round <= options.rounds; round++) {
      for (const entry of fitting) {
        const label = options.rounds > 1 ? ` (round ${round}/${options.rounds})` : '';
        console.error(`… ${scenario.name} on ${entry.name}${label}`);
        runs.get(entry.name).push(await measure(scenario, entry, round));
      }
    }
    const results = fitting.map((entry) => pickRun(scenario, runs.get(entry.name)));
    printScenario(scenario, results);
    done.push({ scenario, results });
  }
  printTargets(done);
  printMarkdown(done, environment);
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
} finally {
  // SupervisedChild also kills leftovers on exit; this makes the normal path explicit.
  process.exitCode = process.exitCode ?? 0;
}
