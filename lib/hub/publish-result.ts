/**
 * What one broadcast did on this node, member by member: written at once, queued behind
 * back-pressure, or dropped (not sent: a volatile message at a full send queue, a member
 * closed 1013 by that send or already closing). Members on other nodes are counted by their
 * own node.
 */
export interface PublishResult {
  delivered: number;
  queued: number;
  dropped: number;
}

export function emptyPublishResult(): PublishResult {
  return { delivered: 0, queued: 0, dropped: 0 };
}
