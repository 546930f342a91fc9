/**
 * `wsgate/testing`: connect to a gateway in a test with no fixed port and no open handle.
 *
 * @example
 * afterEach(closeAllTestClients);
 * const client = await connectTestClient(app, '/chat');
 * client.emit('say', { text: 'hi' });
 * expect(await client.expect('said')).toEqual({ text: 'hi' });
 */
export { connectTestClient, TestClient, DEFAULT_TEST_TIMEOUT } from './test-client.js';
export type { TestClientOptions, WaitOptions } from './test-client.js';
export { closeAllTestClients } from './open-test-clients.js';
export { expectUpgradeDenied } from './upgrade-denied.js';
export type { DeniedUpgrade, UpgradeDeniedOptions } from './upgrade-denied.js';
export { resolveWebSocketUrl } from './server-address.js';
export type { AddressSource, HttpServerHolder, TestQuery, TestTarget } from './server-address.js';
export { readJsonEvent } from './json-event.js';
export type { JsonEvent } from './json-event.js';
export { TestClientError, TestingErrorCode } from './errors.js';
export type { CloseInfo, ReceivedMessage, SendResult } from '../frames/websocket-connection.js';
