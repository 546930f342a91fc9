import { HandshakeError } from './errors.js';

/** Error codes of the client's HTTP/2 road (RFC 8441), beside the handshake codes both roads share. */
export const H2ClientErrorCode = {
  WSG_ERR_HANDSHAKE_H2_NO_CONNECT_PROTOCOL: "The server's SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3); no CONNECT was sent",
  WSG_ERR_HANDSHAKE_H2_STATUS: 'The server answered the extended CONNECT with a status other than 200',
  WSG_ERR_HANDSHAKE_H2_RESET: 'The server reset the CONNECT stream before answering; rstCode holds its HTTP/2 error code',
  WSG_ERR_HANDSHAKE_H2_SESSION: 'The HTTP/2 session closed (GOAWAY, or ended) before the server answered the CONNECT',
} as const;
export type H2ClientErrorCode = keyof typeof H2ClientErrorCode;

/**
 * The HTTP/2 opening handshake failed. A `HandshakeError`, so one `instanceof` covers both
 * roads; `status` is the `:status` received (0 when none), `rstCode` the RST_STREAM code.
 */
export class H2HandshakeError extends HandshakeError {
  constructor(
    code: H2ClientErrorCode,
    message: string,
    status: number,
    readonly rstCode: number | null = null,
    options?: ErrorOptions,
  ) {
    super(code, message, status, {}, options);
  }
}
