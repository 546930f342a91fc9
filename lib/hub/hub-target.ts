import { checkEvent, checkPayload, checkTarget } from './hub-arguments.js';
import type { PublishResult } from './publish-result.js';

/** A set of topics to broadcast to, minus some connections: what `hub.to()` returns. */
export interface HubTarget {
  /** Encodes `{event, data}` once with the hub's encoder and writes it to every member. */
  emit(event: string, data?: unknown): PublishResult;
  /** Writes `raw` as is (string → text frame, bytes → binary frame) to every member. */
  send(raw: string | Uint8Array): PublishResult;
  /** The same target without the member with this connection id or alias (e.g. the sender). */
  except(target: string): HubTarget;
  /**
   * The same target, for messages that may be lost: a member whose send queue is at
   * `maxSendQueue` has the message dropped (counted in `dropped`) instead of being closed
   * 1013. For what the next message supersedes: typing indicators, cursor positions.
   */
  readonly volatile: HubTarget;
}

/** What a target needs from its hub; bound once per hub so targets stay two fields wide. */
export interface HubPublisher {
  publishEvent(topics: readonly string[], except: readonly string[], volatile: boolean, event: string, data: unknown): PublishResult;
  publishRaw(topics: readonly string[], except: readonly string[], volatile: boolean, payload: string | Uint8Array): PublishResult;
}

const NO_ONE: readonly string[] = Object.freeze([]);

/** Immutable: `except()` returns a new target, so a target can be kept and reused. */
export class TopicTarget implements HubTarget {
  constructor(
    private readonly publisher: HubPublisher,
    private readonly topics: readonly string[],
    private readonly excluded: readonly string[] = NO_ONE,
    private readonly isVolatile = false,
  ) {}

  emit(event: string, data?: unknown): PublishResult {
    checkEvent(event);
    return this.publisher.publishEvent(this.topics, this.excluded, this.isVolatile, event, data);
  }

  send(raw: string | Uint8Array): PublishResult {
    checkPayload(raw);
    return this.publisher.publishRaw(this.topics, this.excluded, this.isVolatile, raw);
  }

  except(target: string): HubTarget {
    checkTarget(target);
    return new TopicTarget(this.publisher, this.topics, Object.freeze([...this.excluded, target]), this.isVolatile);
  }

  get volatile(): HubTarget {
    return this.isVolatile ? this : new TopicTarget(this.publisher, this.topics, this.excluded, true);
  }
}
