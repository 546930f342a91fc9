// Command line and environment → one frozen options object. Flags win over env.
//   --duration=S       measured seconds per scenario per server      (BENCH_DURATION, default 5)
//   --warmup=S         unmeasured seconds before each window          (BENCH_WARMUP, default 1)
//   --only=a,b         scenarios: echo, json, large-text-64k, large-binary-64k, large-text-1m,
//                      large-binary-1m, idle; `large` = the four large-*  (BENCH_ONLY, default all)
//   --servers=a,b      servers from server-registry.js                (BENCH_SERVERS, default all)
//   --connections=N    idle scenario connection count                 (BENCH_CONNECTIONS, default 10000)
//   --idle-wait=S      idle scenario pause before measuring memory    (BENCH_IDLE_WAIT, default 20)
//   --rounds=N         repeat every scenario N times, servers interleaved; report each server's
//                      least disturbed run (see run.js pickRun)       (BENCH_ROUNDS, default 1)
//   --verbose          pass children's stdout/stderr through
//   --trace-gc         servers run with --trace-gc; echo rows note the scavenges and mark-compacts
//                      in the measured window                        (BENCH_TRACE_GC=1)
//   --cpu-prof[=DIR]   V8 CPU profile of every server run, one .cpuprofile per scenario × server
//                      in DIR (BENCH_CPU_PROF, default <tmpdir>/wsgate-bench-profiles); read one
//                      with `node bench/profile-top.js FILE`
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const DEFAULTS = { duration: 5, warmup: 1, connections: 10_000, 'idle-wait': 20, rounds: 1 };

function readFlags(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    if (eq !== -1) flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[arg.slice(2)] = argv[++i];
    else flags[arg.slice(2)] = 'true';
  }
  return flags;
}

function list(value, known, what, groups = {}) {
  if (value === undefined || value === '') return known;
  const picked = [...new Set(value.split(',').flatMap((s) => groups[s.trim()] ?? [s.trim()]).filter(Boolean))];
  const unknown = picked.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new Error(`unknown ${what}: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return picked;
}

function positive(name, raw) {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return value;
}

function profileDir(value) {
  if (value === undefined || value === '' || value === 'false' || value === '0') return null;
  return value === 'true' || value === '1' ? join(tmpdir(), 'wsgate-bench-profiles') : resolve(value);
}

/** Scenario group name → its scenarios' names (a scenario's optional `group`), for --only. */
export function groupsOf(scenarios) {
  const groups = {};
  for (const s of scenarios) if (s.group !== undefined) (groups[s.group] ??= []).push(s.name);
  return groups;
}

export function parseOptions(argv, env, { scenarios, servers, groups = {} }) {
  const flags = readFlags(argv);
  const known = new Set(['duration', 'warmup', 'only', 'servers', 'connections', 'idle-wait', 'rounds', 'verbose', 'trace-gc', 'cpu-prof', 'help']);
  for (const name of Object.keys(flags)) if (!known.has(name)) throw new Error(`unknown option --${name}`);
  const pick = (name, envName) => flags[name] ?? env[envName] ?? DEFAULTS[name];
  return Object.freeze({
    help: flags.help === 'true',
    durationMs: positive('duration', pick('duration', 'BENCH_DURATION')) * 1000,
    warmupMs: positive('warmup', pick('warmup', 'BENCH_WARMUP')) * 1000,
    idleWaitMs: positive('idle-wait', pick('idle-wait', 'BENCH_IDLE_WAIT')) * 1000,
    idleConnections: Math.floor(positive('connections', pick('connections', 'BENCH_CONNECTIONS'))),
    rounds: Math.floor(positive('rounds', pick('rounds', 'BENCH_ROUNDS'))),
    scenarios: list(pick('only', 'BENCH_ONLY'), scenarios, 'scenario', groups),
    servers: list(pick('servers', 'BENCH_SERVERS'), servers, 'server'),
    verbose: flags.verbose === 'true' || env.BENCH_VERBOSE === '1',
    traceGc: flags['trace-gc'] === 'true' || env.BENCH_TRACE_GC === '1',
    cpuProfDir: profileDir(flags['cpu-prof'] ?? env.BENCH_CPU_PROF),
  });
}

export const USAGE = `usage: node bench/run.js [--duration=5] [--warmup=1]
                        [--only=echo,json,large-text-64k,large-binary-64k,large-text-1m,large-binary-1m,idle
                         (large = the four large-* rows)]
                        [--servers=wsgate,ws,tcp,nest-wsgate,nest-platform-ws] [--connections=10000]
                        [--idle-wait=20] [--rounds=1] [--cpu-prof[=DIR]] [--trace-gc] [--verbose]`;
