/** One thing a connection has to handle, in arrival order. */
export type MailboxItem =
  | { readonly kind: 'init' }
  | { readonly kind: 'message'; readonly data: string | Buffer; readonly isBinary: boolean }
  | { readonly kind: 'info'; readonly type: string; readonly data: unknown };

/** Consumed slots kept before the array is compacted: small enough to bound waste, large enough to amortize the copy. */
const COMPACT_AFTER = 1024;

/**
 * A FIFO of mailbox items with counts per kind (the two kinds have separate bounds). An
 * array with a moving head: `shift()` on a long array would move every element each time.
 */
/** The shared empty queue; never pushed to (push swaps in a fresh array first). */
const NONE: MailboxItem[] = [];

export class Mailbox {
  /** `NONE` while empty: an idle connection holds no array of its own. */
  private items: MailboxItem[] = NONE;
  private head = 0;
  private messages = 0;
  private infos = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  get messageCount(): number {
    return this.messages;
  }

  get infoCount(): number {
    return this.infos;
  }

  push(item: MailboxItem): void {
    if (this.items === NONE) this.items = [];
    this.items.push(item);
    if (item.kind === 'message') this.messages++;
    else if (item.kind === 'info') this.infos++;
  }

  shift(): MailboxItem | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.head++;
    if (this.head === this.items.length) {
      this.items = NONE;
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (item.kind === 'message') this.messages--;
    else if (item.kind === 'info') this.infos--;
    return item;
  }

  clear(): void {
    this.items = NONE;
    this.head = 0;
    this.messages = 0;
    this.infos = 0;
  }
}
