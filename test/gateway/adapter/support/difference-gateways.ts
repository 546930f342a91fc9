// Gateways for the rows of README "What differs, and why": plain @nestjs/websockets code
// (nothing here imports wsgate), run under WsAdapter and WsGateAdapter to show where the two
// part ways.
import { Catch, UseFilters, type ExceptionFilter } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer, WsException, type OnGatewayConnection } from '@nestjs/websockets';
import { Journal } from './journal.js';

interface SocketLike {
  close(code?: number, reason?: string): void;
}

/** Rethrows what it caught: the error escapes Nest's exception handling. */
@Catch()
export class RethrowFilter implements ExceptionFilter {
  catch(): void {
    throw new Error('the filter rethrew');
  }
}

@WebSocketGateway({ path: '/differ' })
export class DifferGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('bye')
  bye(@ConnectedSocket() client: SocketLike) {
    client.close();
  }

  /** A result JSON.stringify cannot encode. */
  @SubscribeMessage('circular')
  circular() {
    const result: { event: string; data?: unknown } = { event: 'circular' };
    result.data = result;
    return result;
  }

  @UseFilters(RethrowFilter)
  @SubscribeMessage('rethrow')
  rethrow() {
    throw new WsException('handled by a filter that rethrows');
  }
}

/** ws options that wsgate does not honour: each gets a startup warning there. */
@WebSocketGateway({ path: '/untracked', autoPong: false, clientTracking: false })
export class UntrackedGateway {
  @WebSocketServer() server!: { clients?: Set<unknown> };

  @SubscribeMessage('tracked')
  tracked() {
    const clients = this.server.clients;
    return { event: 'tracked', data: clients instanceof Set ? clients.size : null };
  }
}

/**
 * Two gateway classes on one path of the application server: Nest gives them one server and
 * binds each to every client; `shared:bound` records the order (handleConnection runs in it).
 */
@WebSocketGateway({ path: '/shared' })
export class FirstSharedGateway implements OnGatewayConnection {
  constructor(private readonly journal: Journal) {}

  handleConnection() {
    this.journal.record('shared:bound', 'first');
  }

  @SubscribeMessage('who')
  who() {
    return { event: 'who', data: 'first' };
  }

  @SubscribeMessage('only-first')
  onlyFirst() {
    return { event: 'only-first', data: 'first' };
  }
}

@WebSocketGateway({ path: '/shared' })
export class SecondSharedGateway implements OnGatewayConnection {
  constructor(private readonly journal: Journal) {}

  handleConnection() {
    this.journal.record('shared:bound', 'second');
  }

  @SubscribeMessage('who')
  who() {
    return { event: 'who', data: 'second' };
  }

  @SubscribeMessage('only-second')
  onlySecond() {
    return { event: 'only-second', data: 'second' };
  }
}

/** Gateways on a port another server already holds: one with a path, one without. */
export function busyPortGateways(port: number): { WithPath: new () => unknown; WithoutPath: new () => unknown } {
  @WebSocketGateway(port, { path: '/busy' })
  class BusyWithPath {
    @SubscribeMessage('who')
    who() {
      return 'busy';
    }
  }

  @WebSocketGateway(port)
  class BusyWithoutPath {
    @SubscribeMessage('who')
    who() {
      return 'busy';
    }
  }

  return { WithPath: BusyWithPath, WithoutPath: BusyWithoutPath };
}
