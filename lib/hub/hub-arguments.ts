import { isValidWireCloseCode, MAX_CLOSE_REASON_BYTES } from '../frames/close-codes.js';
import { HubError } from './errors.js';
import type { HubErrorCode } from './errors.js';
import type { HubMember } from './hub-member.js';

// Checked on every public call so a bad name fails where it was written, not later on
// another node that receives it through the driver.

function checkName(code: HubErrorCode, what: string, value: unknown, maxBytes: number): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new HubError(code, `${what} must be a non-empty string, got ${describe(value)}`);
  }
  // A UTF-16 string never has fewer UTF-8 bytes than code units, so the cheap check first.
  if (value.length > maxBytes || Buffer.byteLength(value) > maxBytes) {
    throw new HubError(code, `${what} is longer than maxNameLength (${maxBytes} bytes): ${Buffer.byteLength(value)} bytes`);
  }
}

export function checkTopic(topic: unknown, maxBytes: number): asserts topic is string {
  checkName('WSG_ERR_HUB_INVALID_TOPIC', 'A topic', topic, maxBytes);
}

export function checkAlias(alias: unknown, maxBytes: number): asserts alias is string {
  checkName('WSG_ERR_HUB_INVALID_ALIAS', 'An alias', alias, maxBytes);
}

/** A connection id or an alias; not length-checked, since ids are the engine's. */
export function checkTarget(target: unknown): asserts target is string {
  if (typeof target !== 'string' || target.length === 0) {
    throw new HubError('WSG_ERR_HUB_INVALID_TARGET', `A target must be a non-empty connection id or alias, got ${describe(target)}`);
  }
}

export function checkEvent(event: unknown): asserts event is string {
  if (typeof event !== 'string' || event.length === 0) {
    throw new HubError('WSG_ERR_HUB_INVALID_EVENT', `An event or info type must be a non-empty string, got ${describe(event)}`);
  }
}

export function checkPayload(payload: unknown): asserts payload is string | Uint8Array {
  if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
    throw new HubError('WSG_ERR_HUB_INVALID_PAYLOAD', `A raw payload must be a string or Uint8Array, got ${describe(payload)}`);
  }
}

export function checkMember(member: unknown): asserts member is HubMember {
  const id = (member as Partial<HubMember> | null)?.id;
  if (typeof id !== 'string' || id.length === 0) {
    throw new HubError('WSG_ERR_HUB_INVALID_MEMBER', `A hub member needs a non-empty string id, got ${describe(id)}`);
  }
}

export function checkClose(code: unknown, reason: unknown): asserts code is number {
  if (typeof code !== 'number' || !Number.isInteger(code) || !isValidWireCloseCode(code)) {
    throw new HubError('WSG_ERR_HUB_INVALID_CLOSE_CODE', `Close code ${String(code)} may not be sent (RFC 6455 §7.4)`);
  }
  if (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
    throw new HubError(
      'WSG_ERR_HUB_INVALID_CLOSE_REASON',
      `A close reason must be a string of at most ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}
