/**
 * Resolves once `condition()` holds, checking after each turn of the event loop; rejects
 * after `timeoutMs`. For state with no event to wait on (a socket pausing), not for timing.
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A promise with its resolver, for handlers that a test releases. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves after `n` turns of the event loop: an async handler that takes a while without a timer. */
export function turns(n: number): Promise<void> {
  let p = Promise.resolve();
  for (let i = 0; i < n; i++) p = p.then(() => new Promise((resolve) => setImmediate(resolve)));
  return p;
}
