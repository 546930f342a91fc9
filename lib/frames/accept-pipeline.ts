import type { AdmissionCaps } from './admission-caps.js';
import type { ResolvedConnectionOptions } from './connection-options.js';
import type { DeflateConfig } from './deflate-negotiation.js';
import { InvalidArgumentError } from './errors.js';
import { checkHandshakeDecision, type HandshakeAccept, type HandshakeDecision, type HandshakeDeny } from './handshake-decision.js';
import { handshakeTimedOut } from './handshake-deadline.js';
import type { WebSocketConnection } from './websocket-connection.js';

/** Which handshake opens a connection: a GET + 101 upgrade, or an RFC 8441 extended CONNECT. */
export type WebSocketRoad = 'http/1.1' | 'h2';

/** What the engine of one accepted connection runs with. */
export interface EngineSettings {
  readonly options: ResolvedConnectionOptions;
  /** permessage-deflate as the server offers it; null: off. */
  readonly deflate: DeflateConfig | null;
}

/**
 * One validated handshake request on its transport, and the only two ways to answer it. Made
 * per road: `UpgradeRoad` (HTTP/1.1, lib/frames) and `ExtendedConnectRoad` (RFC 8441, lib/http2).
 */
export interface HandshakeRoad {
  readonly road: WebSocketRoad;
  /** Subprotocols the client offered, in its order of preference. */
  readonly protocols: readonly string[];
  /** The client's IP address ('' when the transport no longer knows it): what per-IP caps count. */
  readonly remoteAddress: string;
  /** When the transport was accepted (`performance.now()`): the TCP connection, or the RFC 8441 stream. */
  readonly acceptedAt: number;
  /** True once the client has gone (it may leave while the decision is pending). */
  gone(): boolean;
  /** Writes the opening response and returns the engine over the transport; throws when it cannot. */
  open(accept: HandshakeAccept, settings: EngineSettings): WebSocketConnection;
  /** The road's one refusal writer. Returns what writing the refusal raised, if anything. */
  refuse(deny: HandshakeDeny): unknown;
}

/** What a front door (WsServer, ExtendedConnectIntake, a gateway, WsGateAdapter) plugs into the pipeline. */
export interface AcceptSteps {
  /** Checks that need no decision, such as the Origin allow-list: a refusal, or null to go on. */
  screen?(): HandshakeDeny | null;
  /** Asked before and after `decide`: a refusal (503) while no connection may open, else null. */
  capacity(): HandshakeDeny | null;
  /** Caps on pending handshakes and open connections, checked with `capacity`; absent: none. */
  caps?: AdmissionCaps;
  /** ms from `road.acceptedAt` by which the decision must be in, else 503; 0 or absent: no deadline. */
  handshakeTimeout?: number;
  /** The application's decision (`@OnAccept` and guards, `verifyClient`, `handleProtocols`). */
  decide(): HandshakeDecision | Promise<HandshakeDecision>;
  /** The engine settings of an accepting decision; may throw. */
  settings(accept: HandshakeAccept): EngineSettings;
  /** A failure (`decide` or `settings` threw, a broken decision, an opening response not written) as the refusal to send. */
  failed(error: unknown): HandshakeDeny;
  /** The error for an accepting decision's subprotocol that the client did not offer. */
  unoffered?(protocol: string): Error;
  /** The opening response is out: the connection is the front door's. */
  opened(engine: WebSocketConnection): void;
  /** A refusal was sent (`writeError`: what writing it raised). */
  refused?(deny: HandshakeDeny, writeError: unknown): void;
  /** The client left before it was answered. */
  gone?(): void;
}

function unofferedProtocol(protocol: string): Error {
  return new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `Subprotocol ${JSON.stringify(protocol)} was not offered by the client`);
}

/**
 * The one accept decision, for both roads and every front door: screen (origin) → capacity
 * (shutdown, then the caps on pending handshakes and open connections) → decide, within
 * `handshakeTimeout` of the accept → (the client left? capacity again) → open, or refuse with
 * a real status. The decision is always awaited, whether the front door decided at once or not.
 */
export async function runAcceptPipeline(road: HandshakeRoad, steps: AcceptSteps): Promise<void> {
  const early = steps.screen?.() ?? steps.capacity() ?? steps.caps?.enter(road.remoteAddress) ?? null;
  if (early !== null) {
    refuse(road, steps, early);
    return;
  }
  let decision: HandshakeDecision;
  try {
    decision = await decideInTime(road, steps);
  } finally {
    steps.caps?.leave(road.remoteAddress);
  }
  if (road.gone()) {
    steps.gone?.();
    return;
  }
  decision = steps.capacity() ?? (decision.accept ? steps.caps?.openRefusal(road.remoteAddress) : null) ?? decision;
  if (!decision.accept) {
    refuse(road, steps, decision);
    return;
  }
  let engine: WebSocketConnection;
  try {
    const protocol = decision.protocol;
    if (protocol !== undefined && protocol !== '' && !road.protocols.includes(protocol)) {
      throw (steps.unoffered ?? unofferedProtocol)(protocol);
    }
    engine = road.open(decision, steps.settings(decision));
  } catch (error) {
    refuse(road, steps, steps.failed(error));
    return;
  }
  steps.caps?.opened(road.remoteAddress, engine);
  steps.opened(engine);
}

/** The checked decision, a failure as its refusal, or the timeout refusal once the deadline passes first. */
async function decideInTime(road: HandshakeRoad, steps: AcceptSteps): Promise<HandshakeDecision> {
  const decided = decide(steps);
  const timeout = steps.handshakeTimeout ?? 0;
  if (timeout === 0) return decided;
  const left = road.acceptedAt + timeout - performance.now();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<HandshakeDeny>((resolve) => {
    timer = setTimeout(() => resolve(handshakeTimedOut(timeout)), Math.max(0, left));
  });
  try {
    return await Promise.race([decided, expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function decide(steps: AcceptSteps): Promise<HandshakeDecision> {
  try {
    const decided: unknown = await steps.decide();
    checkHandshakeDecision(decided);
    return decided;
  } catch (error) {
    return steps.failed(error);
  }
}

function refuse(road: HandshakeRoad, steps: AcceptSteps, deny: HandshakeDeny): void {
  const writeError = road.refuse(deny);
  steps.refused?.(deny, writeError);
}
