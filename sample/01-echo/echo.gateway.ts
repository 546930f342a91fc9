import { WsGateway, OnMessage, Payload } from 'wsgate';

/** Replies to `{"event":"echo","data":…}` with the same event and data. */
@WsGateway('/echo')
export class EchoGateway {
  @OnMessage('echo')
  echo(@Payload() data: unknown) {
    return data;
  }
}
