import { describe, it, expect } from '@jest/globals';
import { WsHub, HubError, HubLimits, MemoryDriver } from '../../lib/hub/index.js';
import type { HubErrorCode } from '../../lib/hub/index.js';
import type { HubDriver, HubMessage, HubNode } from '../../lib/hub/index.js';
import { AlreadyClosedError, SendQueueFullError } from '../../lib/frames/errors.js';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { Opcode } from '../../lib/frames/opcodes.js';
import { RecordingMember } from './recording-member.js';
import { expectThrowsWsgError } from '../support/expect-wsg-error.js';

function hubWith(...ids: string[]): { hub: WsHub; members: RecordingMember[] } {
  const hub = new WsHub();
  const members = ids.map((id) => new RecordingMember(id));
  for (const member of members) hub.register(member);
  return { hub, members };
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** Hub errors close nothing themselves (docs/errors.md: "—"), so closeCode is undefined. */
function expectHubError(fn: () => unknown, code: HubErrorCode): HubError {
  const error = expectThrowsWsgError(fn, code, undefined);
  expect(error).toBeInstanceOf(HubError);
  return error as HubError;
}

/** A driver that records what the hub hands it, to check what crosses nodes. */
class RecordingDriver implements HubDriver {
  readonly published: HubMessage[] = [];
  readonly added: string[] = [];
  readonly removed: string[] = [];
  attached: HubNode | null = null;
  detached = false;
  attach(node: HubNode): void {
    this.attached = node;
  }
  publish(_from: HubNode, message: HubMessage): void {
    this.published.push(message);
  }
  async detach(): Promise<void> {
    this.detached = true;
  }
  topicAdded(_node: HubNode, topic: string): void {
    this.added.push(topic);
  }
  topicRemoved(_node: HubNode, topic: string): void {
    this.removed.push(topic);
  }
}

describe('hub options', () => {
  it('applies the HubLimits defaults', async () => {
    const hub = new WsHub();
    const member = new RecordingMember('m');
    hub.register(member);
    for (let i = 0; i < HubLimits.maxTopicsPerMember.default; i++) hub.join(member, `t${i}`);
    expectHubError(() => hub.join(member, 'one-more'), 'WSG_ERR_HUB_TOO_MANY_TOPICS');
    hub.join(member, 't0'); // already in: not a new topic, so not over the limit
    expectHubError(() => hub.to('x'.repeat(HubLimits.maxNameLength.default + 1)), 'WSG_ERR_HUB_INVALID_TOPIC');
    await hub.close();
  });

  it.each([
    ['encoder', { encoder: 'json' }],
    ['driver', { driver: {} }],
    ['driver', { driver: { attach() {}, publish() {} } }],
    ['maxNameLength', { maxNameLength: 0 }],
    ['maxTopicsPerMember', { maxTopicsPerMember: -1 }],
    ['maxAliasesPerMember', { maxAliasesPerMember: 1.5 }],
  ])('rejects a bad %s option with WSG_ERR_HUB_INVALID_OPTION', (_name, options) => {
    expectHubError(() => new WsHub(options as never), 'WSG_ERR_HUB_INVALID_OPTION');
  });

  it('attaches itself to the driver it is given', async () => {
    const driver = new RecordingDriver();
    const hub = new WsHub({ driver });
    expect(driver.attached).toBe(hub);
    await hub.close();
    expect(driver.detached).toBe(true);
  });
});

describe('register and unregister', () => {
  it('registers the same member object twice as a no-op', () => {
    const { hub, members } = hubWith('a');
    hub.register(members[0]!);
    expect(hub.size).toBe(1);
  });

  it('refuses a second member with the same id with WSG_ERR_HUB_DUPLICATE_MEMBER', () => {
    const { hub } = hubWith('a');
    expectHubError(() => hub.register(new RecordingMember('a')), 'WSG_ERR_HUB_DUPLICATE_MEMBER');
  });

  it('refuses a member without an id with WSG_ERR_HUB_INVALID_MEMBER', () => {
    const hub = new WsHub();
    expectHubError(() => hub.register(new RecordingMember('')), 'WSG_ERR_HUB_INVALID_MEMBER');
    expectHubError(() => hub.register({} as never), 'WSG_ERR_HUB_INVALID_MEMBER');
  });

  it('unregister leaves every topic and drops every alias', () => {
    const driver = new RecordingDriver();
    const hub = new WsHub({ driver });
    const a = new RecordingMember('a');
    const b = new RecordingMember('b');
    hub.register(a);
    hub.register(b);
    hub.join(a, 'room:1');
    hub.join(a, 'room:2');
    hub.join(b, 'room:2');
    hub.alias(a, 'user:7');
    hub.unregister(a);
    expect(hub.count('room:1')).toBe(0);
    expect(hub.count('room:2')).toBe(1);
    expect(hub.topicsOf(a).size).toBe(0);
    expect(hub.send('user:7', 'ping')).toBe(false);
    expect(driver.removed).toEqual(['room:1']);
    expect(hub.size).toBe(1);
  });

  it('unregistering an unknown member, or one with the same id but another object, changes nothing', () => {
    const { hub, members } = hubWith('a');
    hub.join(members[0]!, 't');
    hub.unregister(new RecordingMember('a'));
    hub.unregister(new RecordingMember('zzz'));
    expect(hub.count('t')).toBe(1);
  });
});

describe('topics: join, leave, topicsOf', () => {
  it('join needs a registered member (WSG_ERR_HUB_UNKNOWN_MEMBER)', () => {
    const hub = new WsHub();
    expectHubError(() => hub.join(new RecordingMember('a'), 't'), 'WSG_ERR_HUB_UNKNOWN_MEMBER');
  });

  it.each([[''], [undefined], [42]])('refuses topic %p with WSG_ERR_HUB_INVALID_TOPIC', (topic) => {
    const { hub, members } = hubWith('a');
    expectHubError(() => hub.join(members[0]!, topic as never), 'WSG_ERR_HUB_INVALID_TOPIC');
    expectHubError(() => hub.leave(members[0]!, topic as never), 'WSG_ERR_HUB_INVALID_TOPIC');
    expectHubError(() => hub.to(topic as never), 'WSG_ERR_HUB_INVALID_TOPIC');
    expectHubError(() => hub.to(['ok', topic as never]), 'WSG_ERR_HUB_INVALID_TOPIC');
    expectHubError(() => hub.count(topic as never), 'WSG_ERR_HUB_INVALID_TOPIC');
  });

  it('joining twice keeps one membership; leaving a topic one is not in is a no-op', () => {
    const { hub, members } = hubWith('a');
    const [a] = members as [RecordingMember];
    hub.join(a, 't');
    hub.join(a, 't');
    expect(hub.count('t')).toBe(1);
    hub.leave(a, 'other');
    hub.leave(a, 't');
    hub.leave(a, 't');
    expect(hub.count('t')).toBe(0);
  });

  it('topicsOf returns a snapshot that later joins do not change', () => {
    const { hub, members } = hubWith('a');
    const [a] = members as [RecordingMember];
    hub.join(a, 'x');
    const snapshot = hub.topicsOf(a);
    hub.join(a, 'y');
    expect([...snapshot]).toEqual(['x']);
    expect([...hub.topicsOf(a)].sort()).toEqual(['x', 'y']);
    expect(hub.topicsOf(new RecordingMember('nobody')).size).toBe(0);
  });

  it('tells the driver when a topic gets its first member and loses its last', () => {
    const driver = new RecordingDriver();
    const hub = new WsHub({ driver });
    const a = new RecordingMember('a');
    const b = new RecordingMember('b');
    hub.register(a);
    hub.register(b);
    hub.join(a, 't');
    hub.join(b, 't');
    expect(driver.added).toEqual(['t']);
    hub.leave(a, 't');
    expect(driver.removed).toEqual([]);
    hub.leave(b, 't');
    expect(driver.removed).toEqual(['t']);
  });
});

describe('broadcast: hub.to(topic).emit / send', () => {
  it('encodes once and hands the very same PreparedMessage to every member', () => {
    const { hub, members } = hubWith('a', 'b', 'c');
    for (const m of members) hub.join(m, 'room');
    const result = hub.to('room').emit('said', { text: 'hi' });
    expect(result).toEqual({ delivered: 3, queued: 0, dropped: 0 });
    const first = members[0]!.sent[0];
    expect(first).toBeDefined();
    for (const m of members) {
      expect(m.sent).toHaveLength(1);
      expect(m.sent[0]).toBe(first);
    }
    expect(JSON.parse(first!.payload.toString('utf8'))).toEqual({ event: 'said', data: { text: 'hi' } });
    expect(first!.opcode).toBe(Opcode.Text);
  });

  it('calls the encoder once per broadcast, whatever the number of members', () => {
    let calls = 0;
    const hub = new WsHub({ encoder: (event, data) => (calls++, `${event}:${String(data)}`) });
    const members = Array.from({ length: 50 }, (_, i) => new RecordingMember(`m${i}`));
    for (const m of members) {
      hub.register(m);
      hub.join(m, 't');
    }
    hub.to('t').emit('e', 1);
    expect(calls).toBe(1);
    expect(new Set(members.map((m) => m.sent[0])).size).toBe(1);
    expect(members[49]!.texts()).toEqual(['e:1']);
  });

  it('reaches a member that is in several targeted topics once', () => {
    const { hub, members } = hubWith('a', 'b', 'c');
    const [a, b, c] = members as [RecordingMember, RecordingMember, RecordingMember];
    hub.join(a, 'x');
    hub.join(a, 'y');
    hub.join(b, 'y');
    hub.join(c, 'z');
    const result = hub.to(['x', 'y']).send('hello');
    expect(result).toEqual({ delivered: 2, queued: 0, dropped: 0 });
    expect(a.texts()).toEqual(['hello']);
    expect(b.texts()).toEqual(['hello']);
    expect(c.sent).toHaveLength(0);
    expect(a.sent[0]).toBe(b.sent[0]);
  });

  it('sends raw bytes as a binary frame and raw strings as a text frame', () => {
    const { hub, members } = hubWith('a');
    hub.join(members[0]!, 't');
    hub.to('t').send(new Uint8Array([1, 2, 3]));
    hub.to('t').send('txt');
    expect(members[0]!.sent[0]!.opcode).toBe(Opcode.Binary);
    expect([...members[0]!.sent[0]!.payload]).toEqual([1, 2, 3]);
    expect(members[0]!.sent[1]!.opcode).toBe(Opcode.Text);
  });

  it('except() leaves out a member by connection id or by alias, and chains', () => {
    const { hub, members } = hubWith('a', 'b', 'c');
    const [a, b, c] = members as [RecordingMember, RecordingMember, RecordingMember];
    for (const m of members) hub.join(m, 't');
    hub.alias(c, 'user:c');
    const target = hub.to('t');
    expect(target.except('a').emit('e')).toEqual({ delivered: 2, queued: 0, dropped: 0 });
    expect(target.except('a').except('user:c').emit('e')).toEqual({ delivered: 1, queued: 0, dropped: 0 });
    expect(target.emit('e')).toEqual({ delivered: 3, queued: 0, dropped: 0 });
    expect([a.sent.length, b.sent.length, c.sent.length]).toEqual([1, 3, 2]);
    expectHubError(() => target.except(''), 'WSG_ERR_HUB_INVALID_TARGET');
  });

  it("counts 'queued' and 'dropped' answers apart from deliveries", () => {
    const { hub, members } = hubWith('ok', 'slow', 'full');
    for (const m of members) hub.join(m, 't');
    members[1]!.answer = 'queued';
    members[2]!.answer = 'dropped';
    expect(hub.to('t').emit('e')).toEqual({ delivered: 1, queued: 1, dropped: 1 });
  });

  it('counts a member throwing SendQueueFullError or AlreadyClosedError as dropped and serves the rest', () => {
    const { hub, members } = hubWith('full', 'closed', 'fine');
    for (const m of members) hub.join(m, 't');
    members[0]!.answer = new SendQueueFullError('WSG_ERR_SEND_QUEUE_FULL', 'full');
    members[1]!.answer = new AlreadyClosedError('WSG_ERR_ALREADY_CLOSED', 'closed');
    expect(hub.to('t').emit('e')).toEqual({ delivered: 1, queued: 0, dropped: 2 });
    expect(members[2]!.sent).toHaveLength(1);
  });

  it('rethrows a non-WsgError from a member only after every other member got the message', () => {
    const { hub, members } = hubWith('buggy', 'after');
    for (const m of members) hub.join(m, 't');
    const bug = new TypeError('member bug');
    members[0]!.answer = bug;
    expect(catchError(() => hub.to('t').emit('e'))).toBe(bug);
    expect(members[1]!.sent).toHaveLength(1);
  });

  it('reports zero for an empty topic, an unknown topic and an empty topic list', () => {
    const { hub } = hubWith('a');
    expect(hub.to('nobody').emit('e')).toEqual({ delivered: 0, queued: 0, dropped: 0 });
    expect(hub.to([]).emit('e')).toEqual({ delivered: 0, queued: 0, dropped: 0 });
  });

  it('fails with WSG_ERR_HUB_ENCODE_FAILED (cause kept) when the default encoder cannot serialise the data', () => {
    const { hub, members } = hubWith('a');
    hub.join(members[0]!, 't');
    const error = expectHubError(() => hub.to('t').emit('e', { n: 1n }), 'WSG_ERR_HUB_ENCODE_FAILED');
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(members[0]!.sent).toHaveLength(0);
  });

  it('fails with WSG_ERR_HUB_ENCODE_FAILED when a custom encoder returns neither string nor bytes', () => {
    const hub = new WsHub({ encoder: () => 42 as never });
    expectHubError(() => hub.to('t').emit('e'), 'WSG_ERR_HUB_ENCODE_FAILED');
  });

  it('refuses an empty event (WSG_ERR_HUB_INVALID_EVENT) and a non-string, non-bytes payload (WSG_ERR_HUB_INVALID_PAYLOAD)', () => {
    const { hub } = hubWith('a');
    expectHubError(() => hub.to('t').emit(''), 'WSG_ERR_HUB_INVALID_EVENT');
    expectHubError(() => hub.to('t').send({} as never), 'WSG_ERR_HUB_INVALID_PAYLOAD');
  });

  it('a member unregistering itself during a broadcast does not disturb the others', () => {
    const hub = new WsHub();
    const members = ['a', 'b', 'c'].map((id) => new RecordingMember(id));
    const leaver = members[0]!;
    leaver.sendPrepared = (msg) => {
      hub.unregister(leaver);
      leaver.sent.push(msg);
      return 'ok';
    };
    for (const m of members) {
      hub.register(m);
      hub.join(m, 't');
    }
    expect(hub.to('t').emit('e')).toEqual({ delivered: 3, queued: 0, dropped: 0 });
    expect(hub.count('t')).toBe(2);
  });
});

describe('info delivery: hub.send(target, type, data)', () => {
  it('delivers to the member with that connection id', () => {
    const { hub, members } = hubWith('a', 'b');
    expect(hub.send('b', 'kick', { why: 'spam' })).toBe(true);
    expect(members[1]!.infos).toEqual([{ type: 'kick', data: { why: 'spam' } }]);
    expect(members[0]!.infos).toEqual([]);
  });

  it('delivers to every member carrying that alias', () => {
    const { hub, members } = hubWith('tab1', 'tab2', 'other');
    hub.alias(members[0]!, 'user:1');
    hub.alias(members[1]!, 'user:1');
    expect(hub.send('user:1', 'typing')).toBe(true);
    expect(members.map((m) => m.infos.length)).toEqual([1, 1, 0]);
    expect(members[0]!.infos[0]).toEqual({ type: 'typing', data: undefined });
  });

  it('returns false when no member here has that id or alias', () => {
    const { hub } = hubWith('a');
    expect(hub.send('ghost', 'x')).toBe(false);
  });

  it('returns false when the only member throws a WsgError (its mailbox is closed)', () => {
    const { hub, members } = hubWith('a');
    members[0]!.infoError = new AlreadyClosedError('WSG_ERR_ALREADY_CLOSED', 'closed');
    expect(hub.send('a', 'x')).toBe(false);
  });

  it('refuses an empty target (WSG_ERR_HUB_INVALID_TARGET) and an empty type (WSG_ERR_HUB_INVALID_EVENT)', () => {
    const { hub } = hubWith('a');
    expectHubError(() => hub.send('', 'x'), 'WSG_ERR_HUB_INVALID_TARGET');
    expectHubError(() => hub.send('a', ''), 'WSG_ERR_HUB_INVALID_EVENT');
  });
});

describe('aliases', () => {
  it('alias needs a registered member and a valid name', () => {
    const { hub, members } = hubWith('a');
    expectHubError(() => hub.alias(new RecordingMember('b'), 'n'), 'WSG_ERR_HUB_UNKNOWN_MEMBER');
    expectHubError(() => hub.alias(members[0]!, ''), 'WSG_ERR_HUB_INVALID_ALIAS');
  });

  it('unalias stops delivery by that name', () => {
    const { hub, members } = hubWith('a');
    hub.alias(members[0]!, 'n');
    hub.unalias(members[0]!, 'n');
    hub.unalias(members[0]!, 'n');
    expect(hub.send('n', 'x')).toBe(false);
  });
});

describe('presence: count and members', () => {
  it('counts and lists the members of a topic on this node', () => {
    const { hub, members } = hubWith('a', 'b', 'c');
    hub.join(members[0]!, 't');
    hub.join(members[2]!, 't');
    expect(hub.count('t')).toBe(2);
    expect(hub.members('t').map((m) => m.id).sort()).toEqual(['a', 'c']);
    expect(hub.members('none')).toEqual([]);
    expect(hub.count('none')).toBe(0);
  });
});

describe('disconnect (kick)', () => {
  it('closes the member with 1000 and no reason by default', () => {
    const { hub, members } = hubWith('a');
    expect(hub.disconnect('a')).toBe(true);
    expect(members[0]!.closes).toEqual([{ code: CloseCode.Normal, reason: '' }]);
  });

  it('closes every member with an alias, with the given code and reason, and takes them out of their topics at once', () => {
    const { hub, members } = hubWith('a', 'b', 'c');
    hub.alias(members[0]!, 'user');
    hub.alias(members[1]!, 'user');
    for (const m of members) hub.join(m, 't');
    expect(hub.disconnect('user', 4001, 'kicked')).toBe(true);
    expect(members[0]!.closes).toEqual([{ code: 4001, reason: 'kicked' }]);
    expect(members[1]!.closes).toEqual([{ code: 4001, reason: 'kicked' }]);
    expect(hub.count('t')).toBe(1);
    expect(hub.to('t').emit('e').delivered).toBe(1);
  });

  it('returns false for an unknown target', () => {
    const { hub } = hubWith('a');
    expect(hub.disconnect('ghost')).toBe(false);
  });

  it('treats a member already closing (AlreadyClosedError) as closed', () => {
    const { hub, members } = hubWith('a');
    members[0]!.closeError = new AlreadyClosedError('WSG_ERR_ALREADY_CLOSED', 'closing');
    expect(hub.disconnect('a')).toBe(true);
  });

  it.each([[CloseCode.NoStatus], [CloseCode.Abnormal], [999], [5000], [1004]])(
    'refuses close code %p with WSG_ERR_HUB_INVALID_CLOSE_CODE',
    (code) => {
      const { hub, members } = hubWith('a');
      expectHubError(() => hub.disconnect('a', code), 'WSG_ERR_HUB_INVALID_CLOSE_CODE');
      expect(members[0]!.closes).toEqual([]);
    },
  );

  it('accepts a 123-byte reason and refuses 124 bytes with WSG_ERR_HUB_INVALID_CLOSE_REASON', () => {
    const { hub, members } = hubWith('a', 'b');
    expectHubError(() => hub.disconnect('a', 4000, 'r'.repeat(124)), 'WSG_ERR_HUB_INVALID_CLOSE_REASON');
    expect(members[0]!.closes).toEqual([]);
    expect(hub.disconnect('b', 4000, 'r'.repeat(123))).toBe(true);
  });
});

describe('limit maxNameLength', () => {
  it('accepts a topic and an alias of exactly maxNameLength UTF-8 bytes', () => {
    const hub = new WsHub({ maxNameLength: 8 });
    const a = new RecordingMember('a');
    hub.register(a);
    hub.join(a, '12345678');
    hub.join(a, '€€é'); // 3 + 3 + 2 bytes
    hub.alias(a, 'éééé'); // 8 bytes
    expect(hub.count('12345678')).toBe(1);
    expect(hub.count('€€é')).toBe(1);
    expect(hub.send('éééé', 'x')).toBe(true);
  });

  it('refuses maxNameLength + 1 bytes with WSG_ERR_HUB_INVALID_TOPIC / WSG_ERR_HUB_INVALID_ALIAS, counting UTF-8 bytes', () => {
    const hub = new WsHub({ maxNameLength: 8 });
    const a = new RecordingMember('a');
    hub.register(a);
    expectHubError(() => hub.join(a, '123456789'), 'WSG_ERR_HUB_INVALID_TOPIC');
    expectHubError(() => hub.join(a, 'éééé1'), 'WSG_ERR_HUB_INVALID_TOPIC'); // 5 chars, 9 bytes
    expectHubError(() => hub.alias(a, 'éééé1'), 'WSG_ERR_HUB_INVALID_ALIAS');
    expect(hub.topicsOf(a).size).toBe(0);
  });
});

describe('limit maxTopicsPerMember', () => {
  it('accepts exactly maxTopicsPerMember topics and refuses one more with WSG_ERR_HUB_TOO_MANY_TOPICS', () => {
    const hub = new WsHub({ maxTopicsPerMember: 3 });
    const a = new RecordingMember('a');
    hub.register(a);
    hub.join(a, 't1');
    hub.join(a, 't2');
    hub.join(a, 't3');
    expectHubError(() => hub.join(a, 't4'), 'WSG_ERR_HUB_TOO_MANY_TOPICS');
    expect(hub.count('t4')).toBe(0);
    hub.leave(a, 't1');
    hub.join(a, 't4');
    expect(hub.topicsOf(a).size).toBe(3);
  });
});

describe('limit maxAliasesPerMember', () => {
  it('accepts exactly maxAliasesPerMember aliases and refuses one more with WSG_ERR_HUB_TOO_MANY_ALIASES', () => {
    const hub = new WsHub({ maxAliasesPerMember: 2 });
    const a = new RecordingMember('a');
    hub.register(a);
    hub.alias(a, 'n1');
    hub.alias(a, 'n2');
    hub.alias(a, 'n2');
    expectHubError(() => hub.alias(a, 'n3'), 'WSG_ERR_HUB_TOO_MANY_ALIASES');
    expect(hub.send('n3', 'x')).toBe(false);
  });
});

describe('close', () => {
  it('closes every member with 1001, then refuses new work with WSG_ERR_HUB_CLOSED', async () => {
    const { hub, members } = hubWith('a', 'b');
    hub.join(members[0]!, 't');
    await hub.close();
    for (const m of members) expect(m.closes).toEqual([{ code: CloseCode.GoingAway, reason: 'server shutting down' }]);
    expect(hub.closed).toBe(true);
    expect(hub.count('t')).toBe(0);
    expectHubError(() => hub.register(new RecordingMember('c')), 'WSG_ERR_HUB_CLOSED');
    expectHubError(() => hub.join(members[0]!, 't'), 'WSG_ERR_HUB_CLOSED');
    expectHubError(() => hub.alias(members[0]!, 'n'), 'WSG_ERR_HUB_CLOSED');
    expectHubError(() => hub.to('t').emit('e'), 'WSG_ERR_HUB_CLOSED');
    expectHubError(() => hub.send('a', 'x'), 'WSG_ERR_HUB_CLOSED');
    expectHubError(() => hub.disconnect('a'), 'WSG_ERR_HUB_CLOSED');
  });

  it('lets cleanup calls (unregister, leave) through after close, as no-ops', async () => {
    const { hub, members } = hubWith('a');
    await hub.close();
    hub.unregister(members[0]!);
    hub.leave(members[0]!, 't');
    expect(hub.size).toBe(0);
  });

  it('is idempotent and returns the same promise', async () => {
    const { hub, members } = hubWith('a');
    const first = hub.close();
    expect(hub.close()).toBe(first);
    await first;
    expect(members[0]!.closes).toHaveLength(1);
  });

  it('tolerates members already closing and detaches from the driver', async () => {
    const driver = new MemoryDriver();
    const hub = new WsHub({ driver });
    const a = new RecordingMember('a');
    a.closeError = new AlreadyClosedError('WSG_ERR_ALREADY_CLOSED', 'closing');
    hub.register(a);
    expect(driver.nodeCount).toBe(1);
    await hub.close();
    expect(driver.nodeCount).toBe(0);
  });
});
