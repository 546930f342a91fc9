/** A message as receive() hands it over: text as a string, binary as a Buffer. */
export interface ReceivedMessage {
  data: string | Buffer;
  isBinary: boolean;
}

interface Waiter {
  resolve: (message: ReceivedMessage) => void;
  reject: (error: Error) => void;
}

/**
 * Messages waiting for `receive()` (pull-style reading), and the receive() calls waiting for
 * messages. Bounded by its owner: at maxReceiveQueue messages the connection pauses reading.
 * Made on first use: a connection read through 'message' events never has one.
 */
export class InboundQueue {
  private readonly messages: ReceivedMessage[] = [];
  private waiters: Waiter[] | null = null;

  get length(): number {
    return this.messages.length;
  }

  /** Hands the message to the oldest waiting receive(), else queues it. */
  offer(message: ReceivedMessage): void {
    const waiter = this.waiters?.shift();
    if (waiter !== undefined) waiter.resolve(message);
    else this.messages.push(message);
  }

  take(): ReceivedMessage | undefined {
    return this.messages.shift();
  }

  wait(): Promise<ReceivedMessage> {
    return new Promise<ReceivedMessage>((resolve, reject) => (this.waiters ??= []).push({ resolve, reject }));
  }

  /** Every waiting receive() fails: the connection closed. */
  rejectWaiters(error: () => Error): void {
    const waiters = this.waiters;
    this.waiters = null;
    if (waiters !== null) for (const w of waiters) w.reject(error());
  }
}
