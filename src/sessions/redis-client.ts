/**
 * Options of the Redis session store and the ioredis clients built from them: standalone,
 * Sentinel or Cluster, TLS, ACL user; no offline queue, no re-sent commands, bounded waits and a
 * capped reconnect backoff. Besides the command client, a plain connection per process carries the
 * revocation feed's SUBSCRIBE (`redis-feed.ts`).
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisStoreOptions {
  readonly mode: 'standalone' | 'sentinel' | 'cluster';
  /** The server (standalone), the sentinels, or the cluster seed nodes. */
  readonly addresses: readonly RedisAddress[];
  readonly username?: string;
  readonly password?: string;
  /** Database number; must be 0 in cluster mode. */
  readonly db?: number;
  /** Sentinel mode: the master's name (default `mymaster`) and the sentinels' own password. */
  readonly sentinelMaster?: string;
  readonly sentinelPassword?: string;
  readonly tls?: boolean;
  /** PEM CA certificates for TLS (default: the system roots). */
  readonly ca?: string;
  /** Prefix of every key (default `oidc-judge:`). */
  readonly keyPrefix?: string;
  /** Longest wait for one answer (default 1000 ms). */
  readonly commandTimeoutMs?: number;
  /** Cap of the reconnect backoff (default 2000 ms). */
  readonly reconnectMaxDelayMs?: number;
}

export type Client = Redis | Cluster;

/** The reconnect delay after `times` failed attempts: 100 ms doubling, capped. */
export function backoffOf(o: RedisStoreOptions): (times: number) => number {
  const cap = o.reconnectMaxDelayMs ?? 2000;
  return (times) => Math.min(50 * 2 ** Math.min(times, 10), cap);
}

function commonOptions(o: RedisStoreOptions) {
  const timeout = o.commandTimeoutMs ?? 1000;
  const tls = o.tls ? (o.ca ? { ca: o.ca } : {}) : undefined;
  return {
    ...(o.username ? { username: o.username } : {}),
    ...(o.password ? { password: o.password } : {}),
    ...(tls ? { tls } : {}),
    commandTimeout: timeout,
    connectTimeout: Math.max(timeout, 2000),
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    disableClientInfo: true,
  } satisfies RedisOptions;
}

/** The ioredis client for `o`, set up to fail fast and reconnect by itself (see redis.ts). */
export function createClient(o: RedisStoreOptions): Client {
  if (o.addresses.length === 0) throw new Error('no Redis address');
  if (o.mode === 'cluster' && (o.db ?? 0) !== 0) throw new Error('the database number must be 0 in cluster mode');
  const timeout = o.commandTimeoutMs ?? 1000;
  const backoff = backoffOf(o);
  const tls = o.tls ? (o.ca ? { ca: o.ca } : {}) : undefined;
  // Commands issued in the same event-loop turn go out in one write: under load the checks of one
  // turn share a round trip instead of a syscall each (command clients only, not the subscriber).
  const common = { ...commonOptions(o), enableAutoPipelining: true };
  if (o.mode === 'cluster') {
    // ioredis retries CLUSTERDOWN and a closed node connection every 100 ms up to `maxRedirections`
    // (default 16: 1.6 s per command, several per check, past CHECK_TIMEOUT). A failover takes the
    // cluster's node timeout anyway: give up after about half a command timeout (MOVED/ASK
    // redirects, one or two hops, are unaffected).
    const maxRedirections = Math.max(3, Math.ceil(timeout / 200));
    const options = {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      clusterRetryStrategy: backoff,
      slotsRefreshTimeout: timeout,
      retryDelayOnClusterDown: 100,
      retryDelayOnFailover: 100,
      maxRedirections,
      redisOptions: common,
    } satisfies ClusterOptions;
    return new Cluster<'legacy'>(
      o.addresses.map((a) => ({ host: a.host, port: a.port })),
      options,
    );
  }
  const options = { ...common, enableOfflineQueue: false, retryStrategy: backoff, db: o.db ?? 0 } satisfies RedisOptions;
  if (o.mode === 'standalone') return new Redis<'legacy'>({ ...options, host: o.addresses[0]!.host, port: o.addresses[0]!.port });
  return new Redis<'legacy'>({
    ...options,
    sentinels: o.addresses.map((a) => ({ host: a.host, port: a.port })),
    name: o.sentinelMaster || 'mymaster',
    ...(o.sentinelPassword ? { sentinelPassword: o.sentinelPassword } : {}),
    ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    sentinelCommandTimeout: timeout,
    sentinelRetryStrategy: backoff,
  });
}

/**
 * A connection for the revocation feed's SUBSCRIBE. Standalone and Sentinel: the configured server
 * (or the sentinels' current master), reconnecting forever. Cluster: the given `node` (a plain
 * PUBLISH reaches every node of a cluster), giving up after a few failed reconnects so the feed
 * can move on to another node. Subscribing again after a reconnect is the feed's job.
 */
export function createSubscriberClient(o: RedisStoreOptions, node?: RedisAddress): Redis {
  const backoff = backoffOf(o);
  const options = { ...commonOptions(o), enableOfflineQueue: false, autoResubscribe: false, lazyConnect: false } satisfies RedisOptions;
  if (o.mode === 'cluster') {
    const at = node ?? o.addresses[0]!;
    return new Redis<'legacy'>({ ...options, host: at.host, port: at.port, retryStrategy: (times) => (times > 2 ? null : backoff(times)) });
  }
  const rest = { ...options, retryStrategy: backoff, db: o.db ?? 0 };
  if (o.mode === 'standalone') return new Redis<'legacy'>({ ...rest, host: o.addresses[0]!.host, port: o.addresses[0]!.port });
  const tls = o.tls ? (o.ca ? { ca: o.ca } : {}) : undefined;
  return new Redis<'legacy'>({
    ...rest,
    sentinels: o.addresses.map((a) => ({ host: a.host, port: a.port })),
    name: o.sentinelMaster || 'mymaster',
    ...(o.sentinelPassword ? { sentinelPassword: o.sentinelPassword } : {}),
    ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    sentinelCommandTimeout: o.commandTimeoutMs ?? 1000,
    sentinelRetryStrategy: backoff,
  });
}
