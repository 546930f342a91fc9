import { randomUUID } from 'node:crypto';
import { CloseCode } from '../frames/close-codes.js';
import { AlreadyClosedError, WsgError } from '../frames/errors.js';
import { encodeOnce } from '../frames/websocket-connection.js';
import type { PreparedMessage, SendOptions } from '../frames/websocket-connection.js';
import type { HubDriver, HubMessage, HubNode } from './driver.js';
import { HubError } from './errors.js';
import { checkAlias, checkClose, checkEvent, checkMember, checkTarget, checkTopic } from './hub-arguments.js';
import type { HubMember } from './hub-member.js';
import { resolveHubOptions } from './hub-options.js';
import type { HubOptions, ResolvedHubOptions } from './hub-options.js';
import { TopicTarget } from './hub-target.js';
import type { HubPublisher, HubTarget } from './hub-target.js';
import { emptyPublishResult } from './publish-result.js';
import type { PublishResult } from './publish-result.js';
import { TopicRegistry } from './topic-registry.js';
import type { MemberEntry } from './topic-registry.js';

const SHUTDOWN_REASON = 'server shutting down';
const VOLATILE: SendOptions = Object.freeze({ volatile: true });

/**
 * Topics, aliases and info delivery for the connections of one node, and through its driver
 * for every node. Publishes are delivered to local members synchronously and counted in the
 * returned `PublishResult`; the driver carries the same already-encoded payload to the other
 * nodes, which deliver and count on their own.
 *
 * A member whose send queue is full is closed 1013 by its connection (the engine's default
 * `sendQueuePolicy`), so the others are served and the slow one is told; only a publish
 * through `.volatile` is dropped for it instead. Either way it counts in `dropped`.
 *
 * Errors: a member whose `sendPrepared` / `deliverInfo` / `close` throws a `WsgError` (queue
 * full under the `error` policy, already closed) is counted as dropped and the loop goes on. Anything else is a bug in
 * the member: it is thrown once every other member has been served.
 */
export class WsHub implements HubNode {
  readonly nodeId: string = randomUUID();
  readonly #options: ResolvedHubOptions;
  readonly #driver: HubDriver;
  readonly #registry: TopicRegistry;
  readonly #publisher: HubPublisher;
  #closing: Promise<void> | null = null;

  constructor(options?: HubOptions) {
    this.#options = resolveHubOptions(options);
    this.#driver = this.#options.driver;
    const driver = this.#driver;
    this.#registry = new TopicRegistry(this.#options, {
      topicAdded: (topic) => driver.topicAdded?.(this, topic),
      topicRemoved: (topic) => driver.topicRemoved?.(this, topic),
    });
    this.#publisher = {
      publishEvent: (topics, except, volatile, event, data) => {
        this.#assertOpen('publish');
        return this.#publish(topics, except, volatile, this.#encode(event, data));
      },
      publishRaw: (topics, except, volatile, payload) => {
        this.#assertOpen('publish');
        return this.#publish(topics, except, volatile, payload);
      },
    };
    driver.attach(this);
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /** Number of registered members on this node. */
  get size(): number {
    return this.#registry.size;
  }

  /**
   * Adds a connection; registering the same object twice is a no-op. The hub cannot see a
   * connection close: its owner calls `unregister()` then (the gateway does).
   */
  register(member: HubMember): void {
    this.#assertOpen('register');
    checkMember(member);
    this.#registry.add(member);
  }

  /** Removes a connection from every topic and drops its aliases. Unknown members are ignored. */
  unregister(member: HubMember): void {
    checkMember(member);
    this.#registry.remove(member);
  }

  join(member: HubMember, topic: string): void {
    this.#assertOpen('join');
    checkMember(member);
    checkTopic(topic, this.#options.maxNameLength);
    this.#registry.join(this.#registry.require(member), topic);
  }

  /** Leaves `topic`; leaving a topic one is not in, or as an unknown member, is a no-op. */
  leave(member: HubMember, topic: string): void {
    checkMember(member);
    checkTopic(topic, this.#options.maxNameLength);
    const entry = this.#registry.entryOf(member);
    if (entry !== undefined) this.#registry.leave(entry, topic);
  }

  /** A snapshot of the topics `member` is in on this hub. */
  topicsOf(member: HubMember): ReadonlySet<string> {
    checkMember(member);
    const entry = this.#registry.entryOf(member);
    return new Set(entry?.topics);
  }

  /** Everyone in `topic` (or in any of `topics`, each member once). */
  to(topic: string | readonly string[]): HubTarget {
    if (typeof topic !== 'string' && !Array.isArray(topic)) checkTopic(topic, this.#options.maxNameLength);
    const topics: string[] = typeof topic === 'string' ? [topic] : [...(topic as readonly string[])];
    for (const t of topics) checkTopic(t, this.#options.maxNameLength);
    return new TopicTarget(this.#publisher, Object.freeze(topics));
  }

  /**
   * Delivers an info message to the connection with this id, or to every connection with this
   * alias, on every node (`deliverInfo` → the gateway's `@OnInfo`). Returns whether a member on
   * this node took it; other nodes answer for themselves.
   */
  send(target: string, type: string, data?: unknown): boolean {
    this.#assertOpen('send');
    checkTarget(target);
    checkEvent(type);
    const message: HubMessage = { kind: 'info', target, type, data };
    const errors: unknown[] = [];
    const isLocalId = this.#registry.hasId(target);
    const delivered = this.#deliverInfo(this.#registry.resolve(target), type, data, errors);
    // A connection id found here names one connection, which no other node has.
    if (!isLocalId) this.#forward(message, errors);
    throwCollected(errors);
    return delivered;
  }

  /** Gives `member` an extra name to be reached by (a user id, say); several members may share one. */
  alias(member: HubMember, name: string): void {
    this.#assertOpen('alias');
    checkMember(member);
    checkAlias(name, this.#options.maxNameLength);
    this.#registry.addAlias(this.#registry.require(member), name);
  }

  /** Takes an alias from `member`; a no-op if it does not have it. */
  unalias(member: HubMember, name: string): void {
    checkMember(member);
    checkAlias(name, this.#options.maxNameLength);
    const entry = this.#registry.entryOf(member);
    if (entry !== undefined) this.#registry.removeAlias(entry, name);
  }

  /** Members in `topic` on this node. */
  count(topic: string): number {
    checkTopic(topic, this.#options.maxNameLength);
    return this.#registry.membersOf(topic)?.size ?? 0;
  }

  /** A snapshot of the members in `topic` on this node. */
  members(topic: string): HubMember[] {
    checkTopic(topic, this.#options.maxNameLength);
    const entries = this.#registry.membersOf(topic);
    return entries === undefined ? [] : Array.from(entries, (entry) => entry.member);
  }

  /**
   * Closes the connection with this id, or every connection with this alias, on every node.
   * The member leaves all its topics at once, so it gets no broadcast while its closing
   * handshake runs. Returns whether a member on this node was closed.
   */
  disconnect(target: string, code: number = CloseCode.Normal, reason = ''): boolean {
    this.#assertOpen('disconnect');
    checkTarget(target);
    checkClose(code, reason);
    const errors: unknown[] = [];
    const isLocalId = this.#registry.hasId(target);
    const closed = this.#closeMembers(this.#registry.resolve(target), code, reason, errors);
    if (!isLocalId) this.#forward({ kind: 'disconnect', target, code, reason }, errors);
    throwCollected(errors);
    return closed;
  }

  /**
   * Stops the hub: no new members, joins or publishes (`WSG_ERR_HUB_CLOSED`), every member is
   * closed with 1001, and the node leaves its driver. Idempotent.
   * Graceful drain in batches with a final terminate is not done here yet.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Called by the driver with a message another node published. */
  receive(message: HubMessage): void {
    if (this.#closing !== null) return; // late delivery racing our detach: nobody is left to receive it
    const errors: unknown[] = [];
    switch (message.kind) {
      case 'publish':
        this.#deliverPublish(message.topics, message.except, message.volatile === true, message.payload, errors);
        break;
      case 'info':
        this.#deliverInfo(this.#registry.resolve(message.target), message.type, message.data, errors);
        break;
      case 'disconnect':
        this.#closeMembers(this.#registry.resolve(message.target), message.code, message.reason, errors);
        break;
    }
    throwCollected(errors);
  }

  #assertOpen(operation: string): void {
    if (this.#closing !== null) throw new HubError('WSG_ERR_HUB_CLOSED', `Cannot ${operation}: the hub is closed`);
  }

  #encode(event: string, data: unknown): string | Uint8Array {
    let payload: unknown;
    try {
      payload = this.#options.encoder(event, data);
    } catch (error) {
      throw new HubError('WSG_ERR_HUB_ENCODE_FAILED', `The hub encoder failed on event ${JSON.stringify(event)}`, { cause: error });
    }
    if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
      throw new HubError(
        'WSG_ERR_HUB_ENCODE_FAILED',
        `The hub encoder returned ${typeof payload} for event ${JSON.stringify(event)}; expected a string or Uint8Array`,
      );
    }
    return payload;
  }

  #publish(topics: readonly string[], except: readonly string[], volatile: boolean, payload: string | Uint8Array): PublishResult {
    if (topics.length === 0) return emptyPublishResult();
    const errors: unknown[] = [];
    const result = this.#deliverPublish(topics, except, volatile, payload, errors);
    this.#forward(volatile ? { kind: 'publish', topics, except, payload, volatile } : { kind: 'publish', topics, except, payload }, errors);
    throwCollected(errors);
    return result;
  }

  #deliverPublish(
    topics: readonly string[],
    except: readonly string[],
    volatile: boolean,
    payload: string | Uint8Array,
    errors: unknown[],
  ): PublishResult {
    const result = emptyPublishResult();
    const options = volatile ? VOLATILE : undefined;
    // Encoded on the first recipient, so a publish to an empty topic costs no frame.
    let prepared: PreparedMessage | null = null;
    if (topics.length === 1) {
      const entries = this.#registry.membersOf(topics[0]!);
      if (entries === undefined) return result;
      for (const entry of entries) {
        if (except.length > 0 && isExcepted(entry, except)) continue;
        prepared ??= encodeOnce(payload);
        sendTo(entry.member, prepared, options, result, errors);
      }
      return result;
    }
    const seen = new Set<MemberEntry>();
    for (const topic of topics) {
      const entries = this.#registry.membersOf(topic);
      if (entries === undefined) continue;
      for (const entry of entries) {
        if (seen.has(entry)) continue;
        seen.add(entry);
        if (except.length > 0 && isExcepted(entry, except)) continue;
        prepared ??= encodeOnce(payload);
        sendTo(entry.member, prepared, options, result, errors);
      }
    }
    return result;
  }

  #deliverInfo(entries: readonly MemberEntry[], type: string, data: unknown, errors: unknown[]): boolean {
    let delivered = false;
    for (const entry of entries) {
      try {
        entry.member.deliverInfo(type, data);
        delivered = true;
      } catch (error) {
        if (!(error instanceof WsgError)) errors.push(error);
      }
    }
    return delivered;
  }

  #closeMembers(entries: readonly MemberEntry[], code: number, reason: string, errors: unknown[]): boolean {
    for (const entry of entries) {
      this.#registry.remove(entry.member);
      try {
        entry.member.close(code, reason);
      } catch (error) {
        // Already closing on its own: the outcome asked for is under way.
        if (!(error instanceof AlreadyClosedError)) errors.push(error);
      }
    }
    return entries.length > 0;
  }

  #forward(message: HubMessage, errors: unknown[]): void {
    try {
      this.#driver.publish(this, message);
    } catch (error) {
      errors.push(error);
    }
  }

  async #shutdown(): Promise<void> {
    const errors: unknown[] = [];
    this.#closeMembers(this.#registry.clear(), CloseCode.GoingAway, SHUTDOWN_REASON, errors);
    await this.#driver.detach(this);
    throwCollected(errors);
  }
}

function isExcepted(entry: MemberEntry, except: readonly string[]): boolean {
  for (const target of except) {
    if (entry.member.id === target || entry.aliases.has(target)) return true;
  }
  return false;
}

function sendTo(member: HubMember, prepared: PreparedMessage, options: SendOptions | undefined, result: PublishResult, errors: unknown[]): void {
  try {
    switch (member.sendPrepared(prepared, options)) {
      case 'ok':
        result.delivered++;
        return;
      case 'queued':
        result.queued++;
        return;
      default:
        result.dropped++;
        return;
    }
  } catch (error) {
    result.dropped++;
    if (!(error instanceof WsgError)) errors.push(error);
  }
}

function throwCollected(errors: readonly unknown[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} hub members or nodes failed`);
}
