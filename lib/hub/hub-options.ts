import type { HubDriver } from './driver.js';
import type { HubEncoder } from './hub-encoder.js';
import { jsonHubEncoder } from './hub-encoder.js';
import { HubError } from './errors.js';
import { HubLimits } from './hub-limits.js';
import { MemoryDriver } from './memory-driver.js';

/** Options of a `WsHub`. Every field is optional; defaults live in `HubLimits`. */
export interface HubOptions {
  /** Encodes `emit(event, data)` broadcasts. @defaultValue `JSON.stringify({ event, data })` */
  encoder?: HubEncoder;
  /** Carries publishes to other nodes. @defaultValue a private `MemoryDriver` (one process, no peers) */
  driver?: HubDriver;
  /** Longest topic or alias in UTF-8 bytes. @defaultValue 256 */
  maxNameLength?: number;
  /** Most topics one member may be in. @defaultValue 1024 */
  maxTopicsPerMember?: number;
  /** Most aliases one member may carry. @defaultValue 16 */
  maxAliasesPerMember?: number;
}

/** Options after defaults are applied and validated; frozen. */
export type ResolvedHubOptions = Readonly<Required<HubOptions>>;

function checkPositiveInt(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new HubError('WSG_ERR_HUB_INVALID_OPTION', `Option ${name} must be a positive integer, got ${String(value)}`);
  }
}

/** Applies defaults, validates each option and freezes the result. Throws `HubError`. */
export function resolveHubOptions(options: HubOptions = {}): ResolvedHubOptions {
  const resolved: Required<HubOptions> = {
    encoder: options.encoder ?? jsonHubEncoder,
    driver: options.driver ?? new MemoryDriver(),
    maxNameLength: options.maxNameLength ?? HubLimits.maxNameLength.default,
    maxTopicsPerMember: options.maxTopicsPerMember ?? HubLimits.maxTopicsPerMember.default,
    maxAliasesPerMember: options.maxAliasesPerMember ?? HubLimits.maxAliasesPerMember.default,
  };
  if (typeof resolved.encoder !== 'function') {
    throw new HubError('WSG_ERR_HUB_INVALID_OPTION', `Option encoder must be a function, got ${typeof resolved.encoder}`);
  }
  const driver = resolved.driver as Partial<HubDriver> | null;
  if (
    driver === null ||
    typeof driver !== 'object' ||
    typeof driver.attach !== 'function' ||
    typeof driver.publish !== 'function' ||
    typeof driver.detach !== 'function'
  ) {
    throw new HubError('WSG_ERR_HUB_INVALID_OPTION', 'Option driver must implement attach(), publish() and detach()');
  }
  checkPositiveInt('maxNameLength', resolved.maxNameLength);
  checkPositiveInt('maxTopicsPerMember', resolved.maxTopicsPerMember);
  checkPositiveInt('maxAliasesPerMember', resolved.maxAliasesPerMember);
  return Object.freeze(resolved);
}
