// Number formats for the report: one place, so console and markdown agree.
const MISSING = '—';

const ok = (value) => typeof value === 'number' && Number.isFinite(value);

export const int = (value) => (ok(value) ? Math.round(value).toLocaleString('en-US') : MISSING);
export const decimal = (value) => (ok(value) ? value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2) : MISSING);
export const percent = (value) => (ok(value) ? `${Math.round(value * 100)}%` : MISSING);
export const micros = (value) => (ok(value) ? (value >= 10_000 ? `${(value / 1000).toFixed(1)} ms` : int(value)) : MISSING);
export const ratio = (value) => (ok(value) ? `${value.toFixed(2)}×` : MISSING);

export function bytes(value) {
  if (!ok(value)) return MISSING;
  const abs = Math.abs(value);
  if (abs >= 1024 * 1024) return `${(value / (1024 * 1024)).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${Math.round(value)} B`;
}
