import { CloseCode } from '../frames/close-codes.js';

/** Limits the gateway layer adds on top of the engine's `Limits`: default, unit, close code. */
export const GatewayLimits = {
  /**
   * messages: items waiting in one connection's mailbox. Client messages stop being taken at
   * this many (the engine then pauses reading); an info delivery past it closes 1013.
   */
  maxMailbox: { default: 1024, unit: 'messages', closeCode: CloseCode.TryAgainLater },
} as const;
