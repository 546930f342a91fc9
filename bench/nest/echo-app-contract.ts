// The shape servers/echo-server-child.js expects from `start()`, typed for the Nest bench apps.

/** What the bench server child hands a Nest app it starts. */
export interface EchoAppContext {
  readonly host: string;
  /** Counts a server-side error by its code; the report lists the counts. */
  readonly recordError: (error: { code?: string }) => void;
}

/** A started app, as the bench server child drives it. */
export interface EchoAppHandle {
  readonly port: number;
  clientCount(): number;
  close(): Promise<void>;
  readonly notes?: readonly string[];
}

/**
 * Where both Nest echo gateways are mounted. server-registry.js gives the load generator the
 * same path, so a mismatch shows as failed handshakes instead of a silent fallback.
 */
export const ECHO_PATH = '/echo';
