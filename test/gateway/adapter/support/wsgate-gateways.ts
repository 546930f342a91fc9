// Gateways for what only WsGateAdapter does: the wsgate options set in @WebSocketGateway
// (WsAdapter would hand them to ws, which ignores them).
import { Injectable, type Type } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { WsGateClient, WsGateServer, WsGateServerOptions } from '../../../../lib/gateway/index.js';
import { Subject } from 'rxjs';
import { gate } from '../../support/wait-for.js';
import { Journal } from './journal.js';

/** Gates a test opens to let a blocked handler finish; fresh ones per test. */
@Injectable()
export class Gates {
  entered = gate();
  release = gate();
  /** What the 'ticker' handler's Observable emits, driven by the test. */
  ticks = new Subject<unknown>();

  reset(): void {
    this.entered = gate();
    this.release = gate();
    this.ticks = new Subject<unknown>();
  }
}

/** Records what reached the server-side client, and what handlers ran. */
@Injectable()
export abstract class RecordingGateway implements OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer() server!: WsGateServer;

  constructor(
    protected readonly journal: Journal,
    protected readonly gates: Gates,
  ) {}

  protected abstract readonly name: string;

  handleConnection(client: WsGateClient) {
    client.on('message', () => this.journal.record(`${this.name}:received`, true));
  }

  handleDisconnect(_client: WsGateClient, reason: unknown) {
    this.journal.record(`${this.name}:disconnect`, reason);
  }

  @SubscribeMessage('slow')
  async slow() {
    this.gates.entered.open();
    await this.gates.release.promise;
    return { event: 'slow' };
  }

  @SubscribeMessage('fast')
  fast(@MessageBody() n: unknown) {
    this.journal.record(`${this.name}:fast`, n);
    return { event: 'fast', data: n };
  }

  /** An Observable result that emits (and ends) when the test says. */
  @SubscribeMessage('ticker')
  ticker() {
    this.gates.entered.open();
    return this.gates.ticks.asObservable();
  }

  /** Sends texts of the given lengths in one turn; records each SendResult, or what send() threw. */
  @SubscribeMessage('burst')
  burst(@ConnectedSocket() client: WsGateClient, @MessageBody() lengths: number[]) {
    const outcomes: unknown[] = [];
    for (const length of lengths) {
      try {
        outcomes.push(client.send('x'.repeat(length)));
      } catch (error) {
        outcomes.push(error);
      }
    }
    this.journal.record(`${this.name}:burst`, outcomes);
  }

  /**
   * Sends texts of `length` one per turn (each written out before the next) until send()
   * refuses one; records how many went, the bufferedAmount before the refused one, and the
   * SendResult or the error.
   */
  @SubscribeMessage('flood')
  flood(@ConnectedSocket() client: WsGateClient, @MessageBody() length: number) {
    const text = 'x'.repeat(length);
    let sent = 0;
    const step = (): void => {
      const before = client.bufferedAmount;
      let outcome: unknown;
      try {
        outcome = client.send(text);
      } catch (error) {
        outcome = error;
      }
      if (outcome === 'ok' || outcome === 'queued') {
        sent++;
        setImmediate(step);
      } else {
        this.journal.record(`${this.name}:flood`, { sent, before, outcome });
      }
    };
    step();
  }

  @SubscribeMessage('blob')
  blob(@ConnectedSocket() client: WsGateClient, @MessageBody() bytes: number) {
    this.journal.record(`${this.name}:blob`, client.send('x'.repeat(bytes)));
  }
}

function recording(name: string, options: WsGateServerOptions & { path: string }): Type<RecordingGateway> {
  @WebSocketGateway(options)
  class Gateway extends RecordingGateway {
    protected readonly name = name;
  }
  Object.defineProperty(Gateway, 'name', { value: `${name[0]!.toUpperCase()}${name.slice(1)}Gateway` });
  return Gateway;
}

export const RacingGateway = recording('racing', { path: '/racing' });
export const OrderedGateway = recording('ordered', { path: '/ordered', ordered: true });
export const BoundedGateway = recording('bounded', { path: '/bounded', ordered: true, maxMailbox: 2 });
export const UnknownErrorGateway = recording('unknownError', { path: '/unknown-error', onUnknownEvent: 'error', onUndecodable: 'ignore' });
export const UnknownCloseGateway = recording('unknownClose', { path: '/unknown-close', onUnknownEvent: 'close', disconnectReason: 'detail' });
export const UndecodableErrorGateway = recording('undecodableError', { path: '/undecodable-error', onUndecodable: 'error' });
export const UndecodableCloseGateway = recording('undecodableClose', { path: '/undecodable-close', onUndecodable: 'close', disconnectReason: 'detail' });
export const QueueGateway = recording('queue', { path: '/queue', maxSendQueue: 1024, sendLowWaterMark: 0, disconnectReason: 'detail' });
export const DropGateway = recording('drop', { path: '/drop', maxSendQueue: 2048, sendLowWaterMark: 0, sendQueuePolicy: 'drop' });
export const QueueErrorGateway = recording('queueError', { path: '/queue-error', maxSendQueue: 2048, sendLowWaterMark: 0, sendQueuePolicy: 'error' });
/** ms */
export const IDLE_TIMEOUT = 300;
export const IdleGateway = recording('idle', { path: '/idle', idleTimeout: IDLE_TIMEOUT, disconnectReason: 'detail' });
/** ms */
export const PING_INTERVAL = 200;
/** ms */
export const PONG_TIMEOUT = 300;
export const HeartbeatGateway = recording('heartbeat', { path: '/heartbeat', pingInterval: PING_INTERVAL, pongTimeout: PONG_TIMEOUT, disconnectReason: 'detail' });
export const DetailGateway = recording('detail', { path: '/detail', disconnectReason: 'detail' });
export const TinyGateway = recording('tiny', { path: '/tiny', maxMessageSize: 64, disconnectReason: 'detail' });
export const LenientGateway = recording('lenient', { path: '/lenient', skipUTF8Validation: true } as WsGateServerOptions & { path: string });
export const DeflateGateway = recording('deflate', { path: '/deflate', perMessageDeflate: { threshold: 0, zlibDeflateOptions: { level: 1 } } });

export const WSGATE_GATEWAYS = [
  Journal,
  Gates,
  RacingGateway,
  OrderedGateway,
  BoundedGateway,
  UnknownErrorGateway,
  UnknownCloseGateway,
  UndecodableErrorGateway,
  UndecodableCloseGateway,
  QueueGateway,
  DropGateway,
  QueueErrorGateway,
  IdleGateway,
  HeartbeatGateway,
  DetailGateway,
  TinyGateway,
  LenientGateway,
  DeflateGateway,
];
