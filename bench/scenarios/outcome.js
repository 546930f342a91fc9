// Turns what the generator and the server counted into the report's list of problems.
// 'already closed' means the server ended the connection earlier, which is reported on its own.
const UNREMARKABLE_CLOSES = new Set(['clean', 'already closed']);

export function problemsOf({ generatorProblems = {}, closes = {}, stuck = 0, lost = 0, server = null }) {
  const list = [];
  for (const [kind, n] of Object.entries(generatorProblems)) list.push(`client saw: ${kind} ×${n}`);
  for (const [kind, n] of Object.entries(closes)) if (!UNREMARKABLE_CLOSES.has(kind)) list.push(`closing: ${kind} ×${n}`);
  if (stuck > 0) list.push(`${stuck} connection(s) never returned their last echoes (${lost} messages lost)`);
  if (server !== null) {
    for (const [code, n] of Object.entries(server.errors ?? {})) list.push(`server error ${code} ×${n}`);
    if (server.uncaught) list.push(`server uncaught exception: ${server.uncaught.split('\n')[0]}`);
  }
  return list;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the server has let go of every connection, so memory is measured at rest. */
export async function serverSettled(server, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await server.request({ cmd: 'stats' });
    if (stats.clients === 0) return { settled: true, stats };
    if (Date.now() > deadline) return { settled: false, stats };
    await sleep(50);
  }
}
