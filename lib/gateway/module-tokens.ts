/** DI token of the resolved, frozen `WsGateModule` options. */
export const WSGATE_MODULE_OPTIONS = Symbol('wsgate:module-options');
