import { WsgError } from '../frames/errors.js';
import type { CloseInfo, ReceivedMessage } from '../frames/websocket-connection.js';

/** Every error code `wsgate/testing` raises, with the one-line meaning users search for. */
export const TestingErrorCode = {
  WSG_ERR_TESTING_TIMEOUT: 'The awaited message or close did not come within the timeout',
  WSG_ERR_TESTING_CLOSED: 'The connection closed before the awaited message arrived',
  WSG_ERR_TESTING_CLOSE_CODE: 'The connection closed with another code than the one expected',
  WSG_ERR_TESTING_NOT_LISTENING: 'The app or server given has no listening address: call app.listen(0) first',
  WSG_ERR_TESTING_UPGRADE_ACCEPTED: 'expectUpgradeDenied() saw the server accept the upgrade (101)',
  WSG_ERR_TESTING_UPGRADE_STATUS: 'expectUpgradeDenied() saw the server refuse with another HTTP status',
  WSG_ERR_TESTING_UPGRADE_FAILED: 'expectUpgradeDenied() got no HTTP response (connection error or timeout)',
  WSG_ERR_TESTING_INVALID_ARGUMENT: 'A testing helper got an argument it cannot use',
} as const;
export type TestingErrorCode = keyof typeof TestingErrorCode;

/**
 * A failed expectation. `close` is how the connection ended when that is why it failed;
 * `unconsumed` is what had arrived and was not taken, to show what came instead.
 */
export class TestClientError extends WsgError {
  constructor(
    code: TestingErrorCode,
    message: string,
    readonly close: CloseInfo | null = null,
    readonly unconsumed: readonly ReceivedMessage[] = [],
    options?: ErrorOptions,
  ) {
    super(code, message, undefined, options);
  }
}
