import type { TestClient } from './test-client.js';

/** Test clients not yet closed, so one call in `afterEach` can close them all. */
export const openTestClients = new Set<TestClient>();

/**
 * Closes every test client still open and resolves when all are gone. Put it in
 * `afterEach` (or `afterAll`) so a failed test leaves no socket behind.
 */
export async function closeAllTestClients(): Promise<void> {
  await Promise.all(Array.from(openTestClients, (client) => client.close()));
}
