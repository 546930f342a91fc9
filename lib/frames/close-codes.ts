/** RFC 6455 §7.4.1 and the IANA registry: every close code the engine sends or checks. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reserved: never on the wire; reported when a close frame had no code. */
  NoStatus: 1005,
  /** Reserved: never on the wire; reported when TCP closed without a close frame. */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** Reserved: never on the wire; TLS handshake failure. */
  TlsHandshake: 1015,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** §7.4.2: largest close payload is 125 bytes, 2 of which are the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Whether a code may appear in a close frame on the wire (§7.4.1, §7.4.2, IANA registry).
 * 1004, 1005, 1006 and 1015 are reserved and never sent; 1016–2999 are unassigned;
 * 3000–4999 belong to libraries and applications.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (code >= 1000 && code <= 1014) {
    return code !== 1004 && code !== CloseCode.NoStatus && code !== CloseCode.Abnormal;
  }
  return code >= 3000 && code <= 4999;
}
