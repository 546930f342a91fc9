import { Module, type DynamicModule, type InjectionToken, type ModuleMetadata, type OptionalFactoryDependency } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { PushService } from '../http2/push-service.js';
import { WsHub } from '../hub/index.js';
import { WsGatewayRegistry } from './gateway-registry.js';
import { resolveModuleOptions, type ResolvedWsGateModuleOptions, type WsGateModuleOptions } from './module-options.js';
import { WSGATE_MODULE_OPTIONS } from './module-tokens.js';
import { PushInterceptor } from './push-interceptor.js';
import { WsGatePush } from './ws-gate-push.js';
import { UpgradeRouters } from './upgrade-routers.js';
import { WsGateRuntime } from './ws-gate-runtime.js';

/** What `WsGateModule.forRootAsync()` takes. */
export interface WsGateModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => WsGateModuleOptions | Promise<WsGateModuleOptions>;
}

const hubProvider = {
  provide: WsHub,
  useFactory: (options: ResolvedWsGateModuleOptions): WsHub => (options.hub instanceof WsHub ? options.hub : new WsHub(options.hub)),
  inject: [WSGATE_MODULE_OPTIONS],
};

const pushServiceProvider = {
  provide: PushService,
  useFactory: (options: ResolvedWsGateModuleOptions): PushService => {
    const { maxConcurrentPushes, earlyHints } = options.push;
    return new PushService({
      ...(maxConcurrentPushes !== undefined ? { maxConcurrentPushes } : {}),
      ...(earlyHints !== undefined ? { earlyHints } : {}),
    });
  },
  inject: [WSGATE_MODULE_OPTIONS],
};

/**
 * Import once in the root module. Finds every `@WsGateway` provider at bootstrap, mounts it,
 * and provides `WsHub`, `WsGatewayRegistry`, `PushService` and `WsGatePush` to the whole application.
 */
@Module({})
export class WsGateModule {
  static forRoot(options: WsGateModuleOptions = {}): DynamicModule {
    const resolved = resolveModuleOptions(options);
    return WsGateModule.build([{ provide: WSGATE_MODULE_OPTIONS, useValue: resolved }], []);
  }

  static forRootAsync(options: WsGateModuleAsyncOptions): DynamicModule {
    return WsGateModule.build(
      [
        {
          provide: WSGATE_MODULE_OPTIONS,
          useFactory: async (...args: never[]) => resolveModuleOptions(await options.useFactory(...args)),
          inject: options.inject ?? [],
        },
      ],
      options.imports ?? [],
    );
  }

  private static build(optionProviders: DynamicModule['providers'] & object, imports: NonNullable<ModuleMetadata['imports']>): DynamicModule {
    return {
      module: WsGateModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [...optionProviders, hubProvider, pushServiceProvider, WsGatePush, PushInterceptor, WsGatewayRegistry, UpgradeRouters, WsGateRuntime],
      exports: [WsHub, WsGatewayRegistry, WSGATE_MODULE_OPTIONS, PushService, WsGatePush, PushInterceptor, UpgradeRouters],
    };
  }
}
