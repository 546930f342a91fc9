// Jest test environment: the node environment, plus a check that a test file leaves nothing
// running behind it (server, socket, child process, ref'd timer). A leftover keeps the worker's
// event loop alive, so Jest would kill the worker at the end of the run and print "A worker
// process has failed to exit gracefully" without saying which file was to blame; here the file
// that left it fails, with what it left.
import { TestEnvironment } from 'jest-environment-node';

// A handle closed in an afterAll is still listed until the loop's next close phase (a server's
// 'close' event fires before libuv has released its TCP handle), and a child's pipes close a
// little after its 'exit': leftovers must outlive this grace to count. Measured: every file of
// the suite is clean within 50 ms of its end; the margin is for a loaded machine.
const GRACE_MS = 3000;
const POLL_MS = 25;

/** How many resources of each kind (TCPServerWrap, ProcessWrap, Timeout...) the process holds. */
function activeResources() {
  const counts = new Map();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Kinds held now beyond what `before` held, as `Kind×n`. */
function leftovers(before) {
  const extra = [];
  for (const [kind, count] of activeResources()) {
    const n = count - (before.get(kind) ?? 0);
    if (n > 0) extra.push(`${kind}×${n}`);
  }
  return extra;
}

export default class NoLeftoversEnvironment extends TestEnvironment {
  async setup() {
    this.before = activeResources();
    await super.setup();
  }

  async teardown() {
    await super.teardown();
    const deadline = Date.now() + GRACE_MS;
    let extra = leftovers(this.before);
    while (extra.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS).unref());
      extra = leftovers(this.before);
    }
    if (extra.length > 0) {
      throw new Error(
        `this test file left ${extra.join(', ')} active ${GRACE_MS} ms after its last afterAll: ` +
          'close every server, socket, http2 session and child process it opens (await their close/exit) and clear its timers',
      );
    }
  }
}
