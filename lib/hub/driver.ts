/**
 * What crosses from one node's hub to the others. Payloads are already encoded, so every
 * node writes the same bytes and only encodes the frame once for its own sockets.
 */
export type HubMessage =
  | {
      readonly kind: 'publish';
      readonly topics: readonly string[];
      /** Connection ids or aliases that must not receive it. */
      readonly except: readonly string[];
      readonly payload: string | Uint8Array;
      /** Sent with `hub.to(...).volatile`: dropped, not closed 1013, at a full send queue. */
      readonly volatile?: boolean;
    }
  | { readonly kind: 'info'; readonly target: string; readonly type: string; readonly data: unknown }
  | { readonly kind: 'disconnect'; readonly target: string; readonly code: number; readonly reason: string };

/** One hub as a driver sees it: where messages from other nodes are delivered. */
export interface HubNode {
  /** Unique per hub instance; lets a driver recognise (and skip) its own messages. */
  readonly nodeId: string;
  /** Delivers a message that another node published to this node's local members. */
  receive(message: HubMessage): void;
}

/**
 * How publishes cross nodes. The hub always delivers to its own members itself, at once
 * and synchronously, and hands the same message to the driver for every other node; so a
 * driver must never deliver a message back to the node that published it.
 */
export interface HubDriver {
  /** Starts carrying messages for this node; the hub calls it once, from its constructor. */
  attach(node: HubNode): void;
  /** Carries a message from `from` to every other node that may have a recipient. */
  publish(from: HubNode, message: HubMessage): void;
  /** Stops carrying messages for this node; a driver with no node left releases its resources. */
  detach(node: HubNode): Promise<void>;
  /** The node now has its first local member in `topic` (a Redis driver subscribes here). */
  topicAdded?(node: HubNode, topic: string): void;
  /** The node's last local member left `topic`. */
  topicRemoved?(node: HubNode, topic: string): void;
}
