/**
 * Builds the configured session store (`SESSION_STORE_TYPE`): the SQLite file or Redis. Errors
 * name the configuration variable at fault, e.g.
 * `SESSION_STORE_PATH: cannot open /x/y.db (directory /x does not exist)`.
 */
import type { Config } from '../config/schema.js';
import { openRedisStore, type RedisAddress } from './redis.js';
import { openSqliteStore } from './sqlite.js';
import type { SessionStore } from './store.js';

export type SessionStoreConfig = Pick<
  Config,
  | 'sessionStoreType'
  | 'sessionStorePath'
  | 'sessionStoreRedisAddr'
  | 'sessionStoreRedisPwd'
  | 'sessionStoreRedisDb'
  | 'sessionStoreRedisMode'
  | 'sessionStoreRedisUsername'
  | 'sessionStoreRedisSentinelMaster'
  | 'sessionStoreRedisSentinelPwd'
  | 'sessionStoreRedisTls'
  | 'sessionStoreRedisCa'
  | 'sessionStoreRedisKeyPrefix'
>;

/**
 * Parses `host:port` items separated by commas (`[::1]:6379` for IPv6; the port defaults to
 * `defaultPort`). Throws an Error saying which item is wrong.
 */
export function parseRedisAddresses(list: string, defaultPort: number): RedisAddress[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new Error('no address given');
  return items.map((item) => {
    const m = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(item) ?? /^([^:[\]\s]+)(?::(\d+))?$/.exec(item);
    if (!m) throw new Error(`bad address ${JSON.stringify(item)} (expected host:port, or [ipv6]:port)`);
    const port = m[2] === undefined ? defaultPort : Number(m[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port in ${JSON.stringify(item)}`);
    return { host: m[1]!, port };
  });
}

function named<T>(variable: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new Error(`${variable}: ${(err as Error).message}`);
  }
}

/** Opens the store the config asks for. `readFile` reads the Redis CA file (UTF-8). */
export function openSessionStore(config: SessionStoreConfig, readFile: (path: string) => string): SessionStore {
  if (config.sessionStoreType !== 'redis') return named('SESSION_STORE_PATH', () => openSqliteStore(config.sessionStorePath));

  const mode = config.sessionStoreRedisMode;
  const addresses = named('SESSION_STORE_REDIS_ADDR', () => {
    const list = parseRedisAddresses(config.sessionStoreRedisAddr, mode === 'sentinel' ? 26379 : 6379);
    if (mode === 'standalone' && list.length > 1)
      throw new Error('standalone mode takes one address (set SESSION_STORE_REDIS_MODE to sentinel or cluster for a list)');
    return list;
  });
  if (mode === 'cluster' && config.sessionStoreRedisDb !== 0) throw new Error('SESSION_STORE_REDIS_DB: must be 0 in cluster mode');
  if (config.sessionStoreRedisCa && !config.sessionStoreRedisTls) throw new Error('SESSION_STORE_REDIS_CA: set, but SESSION_STORE_REDIS_TLS is off');
  const ca = config.sessionStoreRedisCa
    ? named('SESSION_STORE_REDIS_CA', () => {
        let pem: string;
        try {
          pem = readFile(config.sessionStoreRedisCa);
        } catch (err) {
          throw new Error(`cannot read ${config.sessionStoreRedisCa} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
        if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${config.sessionStoreRedisCa} holds no PEM certificate`);
        return pem;
      })
    : undefined;
  return openRedisStore({
    mode,
    addresses,
    username: config.sessionStoreRedisUsername,
    password: config.sessionStoreRedisPwd,
    db: config.sessionStoreRedisDb,
    sentinelMaster: config.sessionStoreRedisSentinelMaster,
    sentinelPassword: config.sessionStoreRedisSentinelPwd,
    tls: config.sessionStoreRedisTls,
    ...(ca ? { ca } : {}),
    keyPrefix: config.sessionStoreRedisKeyPrefix,
  });
}
