// In an application: import { ... } from 'wsgate';
import { WsGateway, OnMessage, Payload } from '../../lib/gateway/index.js';

/** Replies to `{"event":"echo","data":…}` with the same event and data. */
@WsGateway('/echo')
export class EchoGateway {
  @OnMessage('echo')
  echo(@Payload() data: unknown) {
    return data;
  }
}
