/**
 * The contract every forwarder mode implements (verify-then-proxy, egress, Kubernetes
 * impersonation, OIDC metadata gateway). A mode parses its own options block, then builds a
 * handler; the forwarder runtime (runtime/run.ts) owns listening (TCP, unix socket, TLS), health, drain
 * and the several-listeners-in-one-process part. Modes never read `process.env`: compatibility
 * flags and env names of the tools they replace are translated into option blocks first.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../obs/log.js';
import type { Metrics } from '../../obs/metrics.js';

export interface ForwarderDeps {
  readonly log: Logger;
  readonly clock: Clock;
  /** Reads a file as UTF-8 (keys, CA bundles, token files); re-read when the mode wants rotation. */
  readonly readFile: (path: string) => string;
  /**
   * The process environment as main.ts read it, for the few conventions a mode honours from it
   * (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY` for upstreams). Absent: an empty environment.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where the modes that decide through the judge count their checks (the runtime's one registry, served on `/metrics`); absent: a private registry. */
  readonly metrics?: Metrics;
  /** The judge's `LOG_DECISIONS` (the runtime passes the forwarder schema's): one decision log line per check (default true). */
  readonly logDecisions?: boolean;
}

/** What a listener calls. `handle` never throws; it answers every failure itself. */
export interface ModeHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** An `Upgrade` request (websocket, SPDY). Absent: the listener refuses upgrades (501). */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A `CONNECT` request (egress forward proxy). Absent: the listener refuses CONNECT (405). */
  connect?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ready to serve (keys loaded, discovery done, upstream reachable when the mode says so). */
  ready(): boolean | Promise<boolean>;
  /** Extra routes a mode serves on the runtime's health port (e.g. the metadata gateway's `/readyz`). */
  readonly healthRoutes?: Readonly<Record<string, (req: IncomingMessage, res: ServerResponse) => void>>;
  /** Stops background work (refreshes, key rotation) and releases upstream connections. */
  close(): Promise<void>;
}

/** Where a forwarder listens: `host:port`, `:port`, or `unix:/path/to.sock`. */
export interface ListenSpec {
  readonly address: string;
  /** TLS listen (PEM file paths); refused together with a unix socket. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Unix-socket file mode (default 0o755). */
  readonly socketMode?: number;
}

export interface ModeDefinition<Options> {
  /** The `mode:` value in a `forwarders:` block: `verify`, `egress`, `kube`, `metadata`. */
  readonly mode: string;
  /**
   * Validates a `forwarders:` block (camelCase keys, `mode`/`name`/`listen`/`tls` already removed)
   * and pushes every problem as `"<at>.<key>: what is wrong"` onto `errs`; never throws.
   */
  parse(raw: Readonly<Record<string, unknown>>, at: string, errs: string[]): Options;
  /** Builds the handler; may reject (a key file that cannot be read) with a message naming the option. */
  create(options: Options, deps: ForwarderDeps): ModeHandler | Promise<ModeHandler>;
}
