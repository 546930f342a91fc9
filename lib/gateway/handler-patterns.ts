/**
 * What `getPattern()` returns for calls that are not client messages, so guards and
 * interceptors shared with message handlers can tell them apart. `$` never starts an
 * event a decorator accepts by accident, but nothing forbids it: these are labels, not routes.
 */
export const LifecyclePattern = {
  Accept: '$accept',
  Init: '$init',
  Close: '$close',
  /** A message whose codec gives no event (text, binary), for the catch-all. */
  Message: '$message',
} as const;
