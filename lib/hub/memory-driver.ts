import type { HubDriver, HubMessage, HubNode } from './driver.js';

/**
 * The default driver: an in-process bus. A hub created without a driver gets its own and
 * so has no peers. Several hubs given the same `MemoryDriver` behave as the nodes of one
 * cluster would over Redis, which is how cross-node behaviour is tested without a server.
 * Delivery is synchronous and by reference (no serialisation).
 */
export class MemoryDriver implements HubDriver {
  readonly #topicsByNode = new Map<HubNode, Set<string>>();

  attach(node: HubNode): void {
    if (!this.#topicsByNode.has(node)) this.#topicsByNode.set(node, new Set());
  }

  async detach(node: HubNode): Promise<void> {
    this.#topicsByNode.delete(node);
  }

  topicAdded(node: HubNode, topic: string): void {
    this.#topicsByNode.get(node)?.add(topic);
  }

  topicRemoved(node: HubNode, topic: string): void {
    this.#topicsByNode.get(node)?.delete(topic);
  }

  /** Number of attached nodes. */
  get nodeCount(): number {
    return this.#topicsByNode.size;
  }

  publish(from: HubNode, message: HubMessage): void {
    const errors: unknown[] = [];
    for (const [node, topics] of this.#topicsByNode) {
      if (node === from) continue;
      if (message.kind === 'publish' && !message.topics.some((topic) => topics.has(topic))) continue;
      // One node failing must not keep the message from the others; the failure is still
      // reported to the publisher once everyone has had it.
      try {
        node.receive(message);
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} hub nodes failed to receive a ${message.kind}`);
  }
}
