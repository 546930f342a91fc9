/**
 * Every hub limit in one place with its default and unit. Topics and aliases often come
 * from client input (a room name), so each is bounded: a client must not be able to grow
 * the registry without limit.
 */
export const HubLimits = {
  /** bytes (UTF-8): longest topic or alias name. */
  maxNameLength: { default: 256, unit: 'bytes' },
  /** topics: most topics one member may be in at once. */
  maxTopicsPerMember: { default: 1024, unit: 'topics' },
  /** aliases: most aliases one member may carry at once. */
  maxAliasesPerMember: { default: 16, unit: 'aliases' },
} as const;
