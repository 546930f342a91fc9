import { HubError } from './errors.js';
import type { HubMember } from './hub-member.js';

/** A registered member with the topics and aliases it holds, so leaving all is O(own). */
export interface MemberEntry {
  readonly member: HubMember;
  readonly topics: Set<string>;
  readonly aliases: Set<string>;
}

export interface TopicRegistryLimits {
  readonly maxTopicsPerMember: number;
  readonly maxAliasesPerMember: number;
}

export interface TopicRegistryListener {
  /** The first member joined `topic`. */
  topicAdded(topic: string): void;
  /** The last member left `topic`. */
  topicRemoved(topic: string): void;
}

/**
 * Who is where on this node: members by id, members by topic, members by alias. Both
 * directions are kept so a broadcast walks one set and a close walks only the member's own
 * topics. Empty sets are deleted at once, so names from clients never accumulate.
 */
export class TopicRegistry {
  readonly #byId = new Map<string, MemberEntry>();
  readonly #byTopic = new Map<string, Set<MemberEntry>>();
  readonly #byAlias = new Map<string, Set<MemberEntry>>();

  constructor(
    private readonly limits: TopicRegistryLimits,
    private readonly listener: TopicRegistryListener,
  ) {}

  get size(): number {
    return this.#byId.size;
  }

  hasId(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Registers `member`; registering the same object twice is a no-op. */
  add(member: HubMember): MemberEntry {
    const existing = this.#byId.get(member.id);
    if (existing !== undefined) {
      if (existing.member === member) return existing;
      throw new HubError('WSG_ERR_HUB_DUPLICATE_MEMBER', `A different member with id ${JSON.stringify(member.id)} is already registered`);
    }
    const entry: MemberEntry = { member, topics: new Set(), aliases: new Set() };
    this.#byId.set(member.id, entry);
    return entry;
  }

  /** The entry of exactly this member object, or undefined if it is not registered. */
  entryOf(member: HubMember): MemberEntry | undefined {
    const entry = this.#byId.get(member.id);
    return entry !== undefined && entry.member === member ? entry : undefined;
  }

  require(member: HubMember): MemberEntry {
    const entry = this.entryOf(member);
    if (entry === undefined) {
      throw new HubError('WSG_ERR_HUB_UNKNOWN_MEMBER', `Member ${JSON.stringify(member.id)} is not registered with this hub`);
    }
    return entry;
  }

  /** Removes the member from every topic and alias; returns whether it was registered. */
  remove(member: HubMember): boolean {
    const entry = this.entryOf(member);
    if (entry === undefined) return false;
    this.#byId.delete(member.id);
    for (const topic of entry.topics) this.#detachTopic(entry, topic);
    for (const alias of entry.aliases) this.#detachAlias(entry, alias);
    entry.topics.clear();
    entry.aliases.clear();
    return true;
  }

  /** Forgets every member without notifying the listener (the hub is shutting down). */
  clear(): MemberEntry[] {
    const entries = [...this.#byId.values()];
    this.#byId.clear();
    this.#byTopic.clear();
    this.#byAlias.clear();
    return entries;
  }

  join(entry: MemberEntry, topic: string): void {
    if (entry.topics.has(topic)) return;
    if (entry.topics.size >= this.limits.maxTopicsPerMember) {
      throw new HubError(
        'WSG_ERR_HUB_TOO_MANY_TOPICS',
        `Member ${JSON.stringify(entry.member.id)} is already in maxTopicsPerMember (${this.limits.maxTopicsPerMember}) topics`,
      );
    }
    entry.topics.add(topic);
    let members = this.#byTopic.get(topic);
    if (members === undefined) {
      members = new Set();
      this.#byTopic.set(topic, members);
      members.add(entry);
      this.listener.topicAdded(topic);
      return;
    }
    members.add(entry);
  }

  leave(entry: MemberEntry, topic: string): void {
    if (!entry.topics.delete(topic)) return;
    this.#detachTopic(entry, topic);
  }

  addAlias(entry: MemberEntry, alias: string): void {
    if (entry.aliases.has(alias)) return;
    if (entry.aliases.size >= this.limits.maxAliasesPerMember) {
      throw new HubError(
        'WSG_ERR_HUB_TOO_MANY_ALIASES',
        `Member ${JSON.stringify(entry.member.id)} already has maxAliasesPerMember (${this.limits.maxAliasesPerMember}) aliases`,
      );
    }
    entry.aliases.add(alias);
    let members = this.#byAlias.get(alias);
    if (members === undefined) {
      members = new Set();
      this.#byAlias.set(alias, members);
    }
    members.add(entry);
  }

  removeAlias(entry: MemberEntry, alias: string): void {
    if (!entry.aliases.delete(alias)) return;
    this.#detachAlias(entry, alias);
  }

  /** Members in `topic`, or undefined when it has none. Live: do not mutate. */
  membersOf(topic: string): ReadonlySet<MemberEntry> | undefined {
    return this.#byTopic.get(topic);
  }

  /** Members whose id or one of whose aliases is `target`, each once. */
  resolve(target: string): MemberEntry[] {
    const byId = this.#byId.get(target);
    const byAlias = this.#byAlias.get(target);
    if (byAlias === undefined) return byId === undefined ? [] : [byId];
    const entries = [...byAlias];
    if (byId !== undefined && !byAlias.has(byId)) entries.unshift(byId);
    return entries;
  }

  #detachTopic(entry: MemberEntry, topic: string): void {
    const members = this.#byTopic.get(topic);
    if (members === undefined) return;
    members.delete(entry);
    if (members.size === 0) {
      this.#byTopic.delete(topic);
      this.listener.topicRemoved(topic);
    }
  }

  #detachAlias(entry: MemberEntry, alias: string): void {
    const members = this.#byAlias.get(alias);
    if (members === undefined) return;
    members.delete(entry);
    if (members.size === 0) this.#byAlias.delete(alias);
  }
}
