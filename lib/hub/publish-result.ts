/**
 * What one broadcast did on this node, member by member: written at once, queued behind
 * back-pressure, or dropped (send queue full, connection closing). Members on other nodes
 * are counted by their own node.
 */
export interface PublishResult {
  delivered: number;
  queued: number;
  dropped: number;
}

export function emptyPublishResult(): PublishResult {
  return { delivered: 0, queued: 0, dropped: 0 };
}
