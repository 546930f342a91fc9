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
import { gate } from '../../support/wait-for.js';
import { Journal } from './journal.js';

/** Gates a test opens to let a blocked handler finish; fresh ones per test. */
@Injectable()
export class Gates {
  entered = gate();
  release = gate();

  reset(): void {
    this.entered = gate();
    this.release = gate();
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
  DetailGateway,
  TinyGateway,
  LenientGateway,
  DeflateGateway,
];
