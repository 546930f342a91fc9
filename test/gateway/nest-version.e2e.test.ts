import { describe, it } from '@jest/globals';
import { ModuleRef } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { OnMessage, WsGateModule, WsGateway } from '../../lib/gateway/index.js';
import { expectRejectsWsgError } from '../support/expect-wsg-error.js';

@WsGateway('/version')
class VersionGateway {
  @OnMessage('ping') ping() {
    return 'pong';
  }
}

// wsgate builds Nest's enhancer chains from the application's NestContainer, which Nest offers
// only through ModuleRef. A ModuleRef without one is a Nest wsgate does not support: the app
// must fail at bootstrap with a searchable code, not on the first message.
describe('a @nestjs/core whose ModuleRef has no container', () => {
  it('fails the bootstrap with WSG_ERR_GATEWAY_NEST_VERSION', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [WsGateModule.forRoot()], providers: [VersionGateway] })
      .overrideProvider(ModuleRef)
      .useValue(Object.create(null))
      .compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await expectRejectsWsgError(app.init(), 'WSG_ERR_GATEWAY_NEST_VERSION');
    } finally {
      await app.close();
    }
  });
});
