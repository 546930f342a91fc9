import { screenOrigin, upgradeOriginRequest, type OriginAllowList } from '../frames/origin-check.js';
import type { HandshakeDeny } from '../frames/handshake-decision.js';
import type { GatewayRoad } from './upgrade-router.js';

/** The origin screen of both gateway front doors (`@WsGateway`, `WsGateAdapter`) on either road; 403 `WSG_ERR_GATEWAY_ORIGIN`. */
export function screenGatewayOrigin(allowed: OriginAllowList, road: GatewayRoad): HandshakeDeny | null {
  return screenOrigin(allowed, road.road === 'http/1.1' ? upgradeOriginRequest(road.req) : road.originRequest(), 'WSG_ERR_GATEWAY_ORIGIN');
}

/** Logged once at boot by a front door whose `allowedOrigins` is `'*'`. */
export function anyOriginWarning(where: string): string {
  return `${where}: allowedOrigins '*' lets pages of any site open WebSockets here with their visitors' cookies (cross-site WebSocket hijacking); list the origins instead`;
}
