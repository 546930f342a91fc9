/** An option name kept for one minor version after it was renamed. */
export interface DeprecatedOptionName {
  readonly alias: string;
  /** The current name, which the validators and the resolved options use. */
  readonly name: string;
  /** The DeprecationWarning's `code` (docs/errors.md, "Deprecation warnings"). */
  readonly code: `WSG_DEP_${string}`;
  /** The version whose release drops the alias. */
  readonly removedIn: string;
}

/**
 * Renamed options of both front doors (gateways and `WsGateAdapter`), accepted until
 * `removedIn`. `onUnknown` became `onUnknownEvent`, the adapter's name: a gateway has unknown
 * events and unknown info types, the option is about events only, and what it answers is
 * `WSG_ERR_GATEWAY_UNKNOWN_EVENT`. The adapter takes the alias too: it ignores keys it does not
 * know (ws's pass through), so `onUnknown` there would otherwise do nothing, silently.
 */
export const RENAMED_OPTIONS: readonly DeprecatedOptionName[] = Object.freeze([
  Object.freeze({ alias: 'onUnknown', name: 'onUnknownEvent', code: 'WSG_DEP_ON_UNKNOWN', removedIn: '0.2.0' } as const),
]);

// One warning per alias per process, as Node's util.deprecate() does; private to this file.
const warned = new Set<string>();

/**
 * A copy of `options` with each deprecated name replaced by its current one. The first use
 * of an alias in the process emits a DeprecationWarning with its code (silenced by
 * `--no-deprecation`, thrown by `--throw-deprecation`); both names with different values
 * go to `conflict`, which throws the caller's coded error.
 */
export function renameDeprecatedOptions(
  options: Readonly<Record<string, unknown>>,
  names: readonly DeprecatedOptionName[],
  conflict: (message: string) => never,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...options };
  for (const { alias, name, code, removedIn } of names) {
    if (!(alias in out)) continue;
    const value = out[alias];
    delete out[alias];
    if (value === undefined) continue;
    const current = out[name];
    if (current !== undefined && current !== value) {
      conflict(`Options ${alias} (deprecated) and ${name} disagree (${String(value)} vs ${String(current)}); give ${name} only`);
    }
    out[name] = value;
    if (!warned.has(code)) {
      warned.add(code);
      process.emitWarning(`Option ${alias} is deprecated and will be removed in wsgate ${removedIn}; use ${name} (same values)`, { type: 'DeprecationWarning', code });
    }
  }
  return out;
}
