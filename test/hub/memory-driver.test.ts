import { describe, it, expect } from '@jest/globals';
import { WsHub, MemoryDriver } from '../../lib/hub/index.js';
import type { HubMessage, HubNode } from '../../lib/hub/index.js';
import { RecordingMember } from './recording-member.js';

/** Two hubs on one MemoryDriver: the nodes of a cluster, in one process. */
function cluster(): { driver: MemoryDriver; hubA: WsHub; hubB: WsHub } {
  const driver = new MemoryDriver();
  return { driver, hubA: new WsHub({ driver }), hubB: new WsHub({ driver }) };
}

function joined(hub: WsHub, id: string, ...topics: string[]): RecordingMember {
  const member = new RecordingMember(id);
  hub.register(member);
  for (const topic of topics) hub.join(member, topic);
  return member;
}

/** A node that only records what the driver brings it. */
class RecordingNode implements HubNode {
  readonly nodeId: string;
  readonly received: HubMessage[] = [];
  constructor(id: string) {
    this.nodeId = id;
  }
  receive(message: HubMessage): void {
    this.received.push(message);
  }
}

describe('MemoryDriver as a cluster bus', () => {
  it('carries a topic broadcast to members on the other node; each node counts only its own', () => {
    const { hubA, hubB } = cluster();
    const a1 = joined(hubA, 'a1', 'room');
    const b1 = joined(hubB, 'b1', 'room');
    const b2 = joined(hubB, 'b2', 'room');
    const result = hubA.to('room').emit('said', 'hi');
    expect(result).toEqual({ delivered: 1, queued: 0, dropped: 0 });
    for (const m of [a1, b1, b2]) expect(m.texts()).toEqual([JSON.stringify({ event: 'said', data: 'hi' })]);
    // Node B encoded its own frame once for its two members.
    expect(b1.sent[0]).toBe(b2.sent[0]);
    expect(b1.sent[0]).not.toBe(a1.sent[0]);
  });

  it('applies except() on the other node too', () => {
    const { hubA, hubB } = cluster();
    joined(hubA, 'sender', 'room');
    const other = joined(hubB, 'other', 'room');
    const tab = joined(hubB, 'tab', 'room');
    hubB.alias(tab, 'user:sender');
    hubA.to('room').except('sender').except('user:sender').emit('e');
    expect(other.sent).toHaveLength(1);
    expect(tab.sent).toHaveLength(0);
  });

  it('never delivers a message back to the node that published it', () => {
    const { hubA } = cluster();
    const a = joined(hubA, 'a', 'room');
    hubA.to('room').emit('e');
    expect(a.sent).toHaveLength(1);
  });

  it('routes a broadcast only to nodes that have a member in one of its topics', () => {
    const driver = new MemoryDriver();
    const hub = new WsHub({ driver });
    const with_ = new RecordingNode('with');
    const without = new RecordingNode('without');
    driver.attach(with_);
    driver.attach(without);
    driver.topicAdded(with_, 'room');
    hub.to(['room', 'other']).send('x');
    expect(with_.received).toEqual([{ kind: 'publish', topics: ['room', 'other'], except: [], payload: 'x' }]);
    expect(without.received).toEqual([]);
    driver.topicRemoved(with_, 'room');
    hub.to('room').send('y');
    expect(with_.received).toHaveLength(1);
  });

  it('delivers info to an alias held on several nodes', () => {
    const { hubA, hubB } = cluster();
    const a = joined(hubA, 'a');
    const b = joined(hubB, 'b');
    hubA.alias(a, 'user:1');
    hubB.alias(b, 'user:1');
    expect(hubA.send('user:1', 'typing', true)).toBe(true);
    expect(a.infos).toEqual([{ type: 'typing', data: true }]);
    expect(b.infos).toEqual([{ type: 'typing', data: true }]);
  });

  it('delivers info to a connection id held by another node, and reports false on the sending node', () => {
    const { hubA, hubB } = cluster();
    const b = joined(hubB, 'b');
    expect(hubA.send('b', 'kick')).toBe(false);
    expect(b.infos).toEqual([{ type: 'kick', data: undefined }]);
  });

  it('does not forward info for a connection id found locally: ids name one connection', () => {
    const driver = new MemoryDriver();
    const hub = new WsHub({ driver });
    const spy = new RecordingNode('spy');
    driver.attach(spy);
    joined(hub, 'local');
    hub.send('local', 'x');
    hub.disconnect('local');
    expect(spy.received).toEqual([]);
    hub.send('elsewhere', 'x');
    hub.disconnect('elsewhere', 4000, 'bye');
    expect(spy.received).toEqual([
      { kind: 'info', target: 'elsewhere', type: 'x', data: undefined },
      { kind: 'disconnect', target: 'elsewhere', code: 4000, reason: 'bye' },
    ]);
  });

  it('disconnects a member on another node', () => {
    const { hubA, hubB } = cluster();
    const b = joined(hubB, 'b', 'room');
    hubB.alias(b, 'user:9');
    expect(hubA.disconnect('user:9', 4001, 'kicked')).toBe(false);
    expect(b.closes).toEqual([{ code: 4001, reason: 'kicked' }]);
    expect(hubB.count('room')).toBe(0);
  });

  it('stops delivering to a node once its hub is closed', async () => {
    const { driver, hubA, hubB } = cluster();
    const b = joined(hubB, 'b', 'room');
    await hubB.close();
    expect(driver.nodeCount).toBe(1);
    hubA.to('room').emit('e');
    expect(b.sent).toHaveLength(0);
  });

  it('reports a failing node to the publisher only after the other nodes got the message', () => {
    const driver = new MemoryDriver();
    const hub = new WsHub({ driver });
    const failing: HubNode = {
      nodeId: 'failing',
      receive() {
        throw new RangeError('node bug');
      },
    };
    const fine = new RecordingNode('fine');
    driver.attach(failing);
    driver.attach(fine);
    driver.topicAdded(failing, 't');
    driver.topicAdded(fine, 't');
    expect(() => hub.to('t').send('x')).toThrow(RangeError);
    expect(fine.received).toHaveLength(1);
  });
});

describe('volatile broadcasts: hub.to(t).volatile', () => {
  it('marks the send volatile for every member on every node, keeps except(), and leaves the plain target as it was', async () => {
    const { hubA, hubB } = cluster();
    const a1 = joined(hubA, 'a1', 'room');
    const a2 = joined(hubA, 'a2', 'room');
    const b1 = joined(hubB, 'b1', 'room');
    const target = hubA.to('room');
    expect(target.volatile.except('a2').emit('typing', 'x')).toEqual({ delivered: 1, queued: 0, dropped: 0 });
    expect(target.emit('said', 'y')).toEqual({ delivered: 2, queued: 0, dropped: 0 });
    expect(a1.volatile).toEqual([true, false]);
    expect(a2.volatile).toEqual([false]);
    expect(b1.volatile).toEqual([true, false]);
    await hubA.close();
    await hubB.close();
  });

  it("counts a member that answers 'dropped' to a volatile send in dropped", async () => {
    const hub = new WsHub();
    const slow = joined(hub, 'slow', 'room');
    joined(hub, 'fast', 'room');
    slow.answer = 'dropped';
    expect(hub.to('room').volatile.send('typing')).toEqual({ delivered: 1, queued: 0, dropped: 1 });
    await hub.close();
  });
});
