import { HandshakeError, InvalidOptionError } from './errors.js';
import { repeatedParamNames, type ExtensionParams } from './extension-header.js';

// permessage-deflate (RFC 7692) negotiation as pure functions of (config, offers or response).
// Nothing here touches zlib: the streams live in deflate-codec.ts, made once a connection opens.

/** permessage-deflate (RFC 7692) settings; the same object configures a server or a client. */
export interface PerMessageDeflateOptions {
  /**
   * Server: always answer `server_no_context_takeover` (an offer asking for it is honoured
   * either way). Client: ask for it, and fail the handshake if the server does not agree.
   * @defaultValue false
   */
  serverNoContextTakeover?: boolean;
  /**
   * Server: always answer `client_no_context_takeover` (an offered hint is echoed either
   * way). Client: offer it, and deflate without context takeover even if unanswered.
   * @defaultValue false
   */
  clientNoContextTakeover?: boolean;
  /**
   * log2 of the server's LZ77 window, 8..15. Server: answer at most this (`false`: decline
   * offers that ask for a window). Client: ask for it. `true`: no preference. zlib cannot
   * deflate with 8, so a server deflates with 9, whose matches still fit a 256 B window.
   * @defaultValue undefined (15, the parameter unused unless the peer sends it)
   */
  serverMaxWindowBits?: number | boolean;
  /**
   * log2 of the client's LZ77 window, 8..15. Server: answer at most this, and decline
   * clients that cannot take the parameter; `false`: never answer it. Client: offer it;
   * `true` or unset offers the parameter without a value (support only); `false` omits it.
   * @defaultValue undefined
   */
  clientMaxWindowBits?: number | boolean;
  /** Bytes: messages smaller than this are sent uncompressed. @defaultValue 1024 */
  threshold?: number;
  /**
   * zlib operations in flight at once across the whole process (the limit this instance
   * waits for; see `ZlibLimiter`). @defaultValue 10
   */
  concurrencyLimit?: number;
  /** zlib compression level, -1..9. @defaultValue -1 (zlib's default, 6) */
  level?: number;
  /** zlib memLevel, 1..9: deflate state memory per connection. @defaultValue 8 */
  memLevel?: number;
}

/** The extension's token in `Sec-WebSocket-Extensions` (RFC 7692 §6). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

const SERVER_NO_CONTEXT_TAKEOVER = 'server_no_context_takeover';
const CLIENT_NO_CONTEXT_TAKEOVER = 'client_no_context_takeover';
const SERVER_MAX_WINDOW_BITS = 'server_max_window_bits';
const CLIENT_MAX_WINDOW_BITS = 'client_max_window_bits';

const MIN_WINDOW_BITS = 8;
/** Also the window of a side whose parameter was never negotiated (§7.1.2). */
const MAX_WINDOW_BITS = 15;

/** RFC 7692 §7.1.2: decimal, no leading zeros, 8..15. Lookup, not parseInt: "08" and "+9" fail. */
const WINDOW_BITS_VALUES = new Map<string, number>(
  Array.from({ length: MAX_WINDOW_BITS - MIN_WINDOW_BITS + 1 }, (_, i) => [String(MIN_WINDOW_BITS + i), MIN_WINDOW_BITS + i]),
);

// zlib's own numbers (Z_DEFAULT_COMPRESSION, Z_BEST_COMPRESSION, Z_MIN/MAX_MEMLEVEL), written
// out so that validating options never loads zlib; the codec's tests check them against zlib.
/** zlib level bounds; -1 is Z_DEFAULT_COMPRESSION (6). */
export const ZLIB_LEVEL = { min: -1, max: 9, default: -1 } as const;
/** zlib memLevel bounds. */
export const ZLIB_MEM_LEVEL = { min: 1, max: 9, default: 8 } as const;

const Defaults = {
  threshold: 1024,
  concurrencyLimit: 10,
} as const;

/**
 * permessage-deflate options after defaults and validation, frozen. Made once where a server,
 * intake, gateway or client resolves its options (`resolveDeflateConfig()`), then shared by
 * every negotiation and every connection's codec; nothing re-reads the options it came from.
 */
export class DeflateConfig {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  /** As given: a number 8..15, a boolean, or undefined. */
  readonly serverMaxWindowBits: number | boolean | undefined;
  /** As given: a number 8..15, a boolean, or undefined. */
  readonly clientMaxWindowBits: number | boolean | undefined;
  /** Bytes: smaller messages are sent uncompressed. */
  readonly threshold: number;
  /** zlib operations in flight at once, process-wide. */
  readonly concurrencyLimit: number;
  /** zlib compression level, -1..9. */
  readonly level: number;
  /** zlib memLevel, 1..9. */
  readonly memLevel: number;

  private constructor(options: PerMessageDeflateOptions) {
    this.serverNoContextTakeover = options.serverNoContextTakeover ?? false;
    this.clientNoContextTakeover = options.clientNoContextTakeover ?? false;
    this.serverMaxWindowBits = options.serverMaxWindowBits;
    this.clientMaxWindowBits = options.clientMaxWindowBits;
    this.threshold = options.threshold ?? Defaults.threshold;
    this.concurrencyLimit = options.concurrencyLimit ?? Defaults.concurrencyLimit;
    this.level = options.level ?? ZLIB_LEVEL.default;
    this.memLevel = options.memLevel ?? ZLIB_MEM_LEVEL.default;
    Object.freeze(this);
  }

  /** Validates every option (InvalidOptionError 'WSG_ERR_INVALID_OPTION' on the first bad one). */
  static from(options: PerMessageDeflateOptions): DeflateConfig {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new InvalidOptionError('WSG_ERR_INVALID_OPTION', `Option perMessageDeflate must be a boolean or an options object, got ${describeValue(options)}`);
    }
    for (const name of ['serverNoContextTakeover', 'clientNoContextTakeover'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'boolean') {
        throw new InvalidOptionError('WSG_ERR_INVALID_OPTION', `Option perMessageDeflate.${name} must be a boolean, got ${String(options[name])}`);
      }
    }
    checkWindowBitsOption('serverMaxWindowBits', options.serverMaxWindowBits);
    checkWindowBitsOption('clientMaxWindowBits', options.clientMaxWindowBits);
    checkIntegerOption('threshold', options.threshold, 0, Number.MAX_SAFE_INTEGER);
    checkIntegerOption('concurrencyLimit', options.concurrencyLimit, 1, Number.MAX_SAFE_INTEGER);
    checkIntegerOption('level', options.level, ZLIB_LEVEL.min, ZLIB_LEVEL.max);
    checkIntegerOption('memLevel', options.memLevel, ZLIB_MEM_LEVEL.min, ZLIB_MEM_LEVEL.max);
    return new DeflateConfig(options);
  }
}

/** What a `perMessageDeflate` option may hold: off, on with defaults, options, or a config made earlier. */
export type PerMessageDeflateOption = boolean | PerMessageDeflateOptions | DeflateConfig;

/**
 * Resolves a `perMessageDeflate` option once: `undefined` / `false` → null (off), `true` → the
 * defaults, options → validated and frozen, a `DeflateConfig` → itself (never re-validated).
 * Throws InvalidOptionError 'WSG_ERR_INVALID_OPTION' naming the first bad option.
 */
export function resolveDeflateConfig(option: PerMessageDeflateOption | undefined): DeflateConfig | null {
  if (option === undefined || option === false) return null;
  if (option instanceof DeflateConfig) return option;
  return DeflateConfig.from(option === true ? {} : option);
}

/**
 * What both ends agreed (frozen); window bits are effective sizes (15 when the parameter was
 * absent). With a `DeflateConfig` and a role, all a codec needs.
 */
export interface DeflateAgreement {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number;
  readonly clientMaxWindowBits: number;
}

/** The server's answer to an offer: the params for the 101 (null prototype) and what they agree. */
export interface DeflateAcceptance {
  readonly response: Readonly<ExtensionParams>;
  readonly agreement: DeflateAgreement;
}

/** The four RFC 7692 §7.1 parameters as read from one offer or response, already validated. */
interface WireParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true`: offered without a value (offers only). */
  clientMaxWindowBits: number | true | undefined;
}

function describeValue(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

function checkWindowBitsOption(name: string, value: unknown): void {
  if (value === undefined || typeof value === 'boolean') return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_WINDOW_BITS || value > MAX_WINDOW_BITS) {
    throw new InvalidOptionError(
      'WSG_ERR_INVALID_OPTION',
      `Option perMessageDeflate.${name} must be a boolean or an integer from 8 to 15, got ${String(value)}`,
    );
  }
}

function checkIntegerOption(name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      'WSG_ERR_INVALID_OPTION',
      `Option perMessageDeflate.${name} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
}

function quoteName(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}

/** Reads one offer or response; returns why it is invalid (RFC 7692 §7) as a string. */
function readWireParams(params: ExtensionParams, side: 'offer' | 'response'): WireParams | string {
  const repeated = repeatedParamNames(params);
  if (repeated.length > 0) return `repeats parameter ${quoteName(repeated[0]!)}`;
  const wire: WireParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  for (const name of Object.keys(params)) {
    const value: unknown = params[name];
    switch (name) {
      case SERVER_NO_CONTEXT_TAKEOVER:
      case CLIENT_NO_CONTEXT_TAKEOVER:
        if (value !== true) return `gives ${name} a value; it takes none`;
        if (name === SERVER_NO_CONTEXT_TAKEOVER) wire.serverNoContextTakeover = true;
        else wire.clientNoContextTakeover = true;
        break;
      case SERVER_MAX_WINDOW_BITS:
      case CLIENT_MAX_WINDOW_BITS: {
        // §7.1.2.2: only an offer may carry client_max_window_bits without a value.
        if (value === true && name === CLIENT_MAX_WINDOW_BITS && side === 'offer') {
          wire.clientMaxWindowBits = true;
          break;
        }
        const bits = typeof value === 'string' ? WINDOW_BITS_VALUES.get(value) : undefined;
        if (bits === undefined) {
          return `gives ${name} the value ${value === true ? '(none)' : quoteName(String(value))}; it needs 8..15`;
        }
        if (name === SERVER_MAX_WINDOW_BITS) wire.serverMaxWindowBits = bits;
        else wire.clientMaxWindowBits = bits;
        break;
      }
      default:
        return `has unknown parameter ${quoteName(name)}`;
    }
  }
  return wire;
}

/** Client: the params to offer in the request header (a fresh null-prototype object). */
export function deflateOffer(config: DeflateConfig): ExtensionParams {
  const params = Object.create(null) as ExtensionParams;
  if (config.serverNoContextTakeover) params[SERVER_NO_CONTEXT_TAKEOVER] = true;
  if (config.clientNoContextTakeover) params[CLIENT_NO_CONTEXT_TAKEOVER] = true;
  // §7.1.2.1: server_max_window_bits always carries a value, so `true` offers nothing.
  if (typeof config.serverMaxWindowBits === 'number') params[SERVER_MAX_WINDOW_BITS] = String(config.serverMaxWindowBits);
  if (typeof config.clientMaxWindowBits === 'number') params[CLIENT_MAX_WINDOW_BITS] = String(config.clientMaxWindowBits);
  else if (config.clientMaxWindowBits !== false) params[CLIENT_MAX_WINDOW_BITS] = true;
  return params;
}

/**
 * Server: picks the first acceptable offer (RFC 7692 §5, §7.1) and returns the params for the
 * 101 response with what they agree; null when none is acceptable. An offer with an unknown,
 * repeated or invalid parameter is declined (skipped), never an error.
 */
export function acceptDeflateOffer(config: DeflateConfig, offers: readonly ExtensionParams[]): DeflateAcceptance | null {
  for (const offer of offers) {
    // §7: an offer with an unknown, repeated or invalid parameter is declined, not fatal.
    const wire = readWireParams(offer, 'offer');
    if (typeof wire === 'string') continue;
    if (config.serverMaxWindowBits === false && wire.serverMaxWindowBits !== undefined) continue;
    // A numeric clientMaxWindowBits is a memory bound we insist on; a client that cannot
    // take the parameter (§7.1.2.2: it must offer it) would ignore the bound.
    if (typeof config.clientMaxWindowBits === 'number' && wire.clientMaxWindowBits === undefined) continue;

    const response = Object.create(null) as ExtensionParams;
    // §7.1.1.1: accepting an offer that has it means echoing it; we may also add it.
    const serverNoContextTakeover = config.serverNoContextTakeover || wire.serverNoContextTakeover;
    // §7.1.1.2: echoing the client's hint costs nothing and lets both ends reset.
    const clientNoContextTakeover = config.clientNoContextTakeover || wire.clientNoContextTakeover;
    if (serverNoContextTakeover) response[SERVER_NO_CONTEXT_TAKEOVER] = true;
    if (clientNoContextTakeover) response[CLIENT_NO_CONTEXT_TAKEOVER] = true;

    // §7.1.2.1: same or smaller than offered; allowed even when not offered.
    let serverBits: number | undefined = wire.serverMaxWindowBits;
    if (typeof config.serverMaxWindowBits === 'number') {
      serverBits = Math.min(config.serverMaxWindowBits, serverBits ?? MAX_WINDOW_BITS);
    }
    if (serverBits !== undefined) response[SERVER_MAX_WINDOW_BITS] = String(serverBits);

    // §7.1.2.2: only if offered; same or smaller than an offered value.
    let clientBits: number | undefined;
    if (wire.clientMaxWindowBits !== undefined && config.clientMaxWindowBits !== false) {
      const offered = wire.clientMaxWindowBits === true ? undefined : wire.clientMaxWindowBits;
      if (typeof config.clientMaxWindowBits === 'number') {
        clientBits = Math.min(config.clientMaxWindowBits, offered ?? MAX_WINDOW_BITS);
      } else {
        clientBits = offered;
      }
    }
    if (clientBits !== undefined) response[CLIENT_MAX_WINDOW_BITS] = String(clientBits);

    return Object.freeze({
      response: Object.freeze(response),
      agreement: Object.freeze({
        serverNoContextTakeover,
        clientNoContextTakeover,
        serverMaxWindowBits: serverBits ?? MAX_WINDOW_BITS,
        clientMaxWindowBits: clientBits ?? MAX_WINDOW_BITS,
      }),
    });
  }
  return null;
}

/**
 * Client: checks the server's response (exactly one entry) against what `config` offered and
 * returns the agreement. Throws HandshakeError 'WSG_ERR_HANDSHAKE_EXTENSION' (status 0) when
 * the response is invalid, repeats or invents a parameter, or does not accept the offer (§7).
 */
export function checkDeflateResponse(config: DeflateConfig, response: readonly ExtensionParams[]): DeflateAgreement {
  const fail = (reason: string): HandshakeError =>
    new HandshakeError('WSG_ERR_HANDSHAKE_EXTENSION', `The server's permessage-deflate response ${reason}`, 0);
  if (response.length !== 1) throw fail(`appears ${response.length} times; exactly one is allowed`);
  const wire = readWireParams(response[0]!, 'response');
  if (typeof wire === 'string') throw fail(wire);

  // §7.1.1.1: a server accepts server_no_context_takeover only by echoing it.
  if (config.serverNoContextTakeover && !wire.serverNoContextTakeover) {
    throw fail(`omits ${SERVER_NO_CONTEXT_TAKEOVER}, which was offered`);
  }
  // §7.1.2.1: a server accepts server_max_window_bits only by answering it, same or smaller.
  if (typeof config.serverMaxWindowBits === 'number') {
    if (wire.serverMaxWindowBits === undefined) throw fail(`omits ${SERVER_MAX_WINDOW_BITS}, which was offered`);
    if (wire.serverMaxWindowBits > config.serverMaxWindowBits) {
      throw fail(`raises ${SERVER_MAX_WINDOW_BITS} to ${wire.serverMaxWindowBits} above the offered ${config.serverMaxWindowBits}`);
    }
  }
  // §7.1.2.2: client_max_window_bits may be answered only if offered, and not above the offer.
  if (wire.clientMaxWindowBits !== undefined) {
    if (config.clientMaxWindowBits === false) throw fail(`has ${CLIENT_MAX_WINDOW_BITS}, which was not offered`);
    if (typeof config.clientMaxWindowBits === 'number' && (wire.clientMaxWindowBits as number) > config.clientMaxWindowBits) {
      throw fail(`raises ${CLIENT_MAX_WINDOW_BITS} to ${String(wire.clientMaxWindowBits)} above the offered ${config.clientMaxWindowBits}`);
    }
  }

  const answeredClientBits = (wire.clientMaxWindowBits as number | undefined) ?? MAX_WINDOW_BITS;
  const offeredClientBits = typeof config.clientMaxWindowBits === 'number' ? config.clientMaxWindowBits : MAX_WINDOW_BITS;
  return Object.freeze({
    serverNoContextTakeover: wire.serverNoContextTakeover,
    // Our own option is a promise made in the offer (§7.1.1.2 hint): keep it even if unanswered.
    clientNoContextTakeover: wire.clientNoContextTakeover || config.clientNoContextTakeover,
    serverMaxWindowBits: wire.serverMaxWindowBits ?? MAX_WINDOW_BITS,
    // An offered value is also a promise (§7.1.2.2 hint): never deflate with a bigger window.
    clientMaxWindowBits: Math.min(answeredClientBits, offeredClientBits),
  });
}
