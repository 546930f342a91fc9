import { Module } from '@nestjs/common';
import { WsGateModule } from 'wsgate';
import { EchoGateway } from './echo.gateway.js';

@Module({
  imports: [WsGateModule.forRoot()],
  providers: [EchoGateway],
})
export class EchoAppModule {}
