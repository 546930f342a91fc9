/** Turns an event and its data into the bytes of one message; called once per broadcast. */
export type HubEncoder = (event: string, data: unknown) => string | Uint8Array;

/** The json codec's wire shape, `{"event": …, "data": …}`, as Nest's own gateways send it. */
export const jsonHubEncoder: HubEncoder = (event, data) => JSON.stringify({ event, data });
