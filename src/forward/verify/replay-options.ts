/**
 * The `replay:` option of a verify block: `off` (default), `memory`, or a mapping
 * `{ store: memory, purgeSeconds, maxEntries }` / `{ store: redis, addresses, mode, username,
 * password | passwordFile, db, tls, caFile, sentinelMaster, keyPrefix, commandTimeoutMs }`.
 */
import type { RedisAddress, RedisStoreOptions } from '../../sessions/redis-client.js';
import { isMapping, type OptionReader } from '../../config/block.js';
import type { Field } from '../../config/field.js';

export type ReplayOptions =
  | { readonly store: 'off' }
  | { readonly store: 'memory'; readonly purgeSeconds: number; readonly maxEntries: number }
  | { readonly store: 'redis'; readonly redis: RedisStoreOptions; readonly passwordFile?: string; readonly caFile?: string };

const OFF: ReplayOptions = { store: 'off' };

/** `host:port` or `[v6]:port`. */
export function parseHostPort(s: string): RedisAddress | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s.trim());
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

/** Reads the `replay` option (`option` declares it). */
export function parseReplay(r: OptionReader, option: Field<unknown>): ReplayOptions {
  const v = r.get(option);
  if (v === undefined) return OFF;
  if (typeof v === 'string') {
    if (v === 'off') return OFF;
    if (v === 'memory') return { store: 'memory', purgeSeconds: 60, maxEntries: 1_000_000 };
    r.fail('replay', v === 'redis' ? 'the redis store needs a mapping with its addresses' : 'must be off, memory or a mapping');
    return OFF;
  }
  if (!isMapping(v)) {
    r.fail('replay', 'must be off, memory or a mapping');
    return OFF;
  }
  const s = r.sub('replay')!;
  const store = s.oneOf('store', ['off', 'memory', 'redis'] as const);
  let out: ReplayOptions = OFF;
  if (store === 'memory') {
    out = {
      store,
      purgeSeconds: s.num('purgeSeconds', { min: 1, max: 86_400, def: 60 })!,
      maxEntries: s.num('maxEntries', { min: 1, max: 1e8, def: 1_000_000, integer: true })!,
    };
  } else if (store === 'redis') {
    const addresses: RedisAddress[] = [];
    for (const a of s.strList('addresses', { required: true }) ?? []) {
      const p = parseHostPort(a);
      if (p === undefined) s.fail('addresses', `"${a}" is not host:port`);
      else addresses.push(p);
    }
    const mode = s.oneOf('mode', ['standalone', 'sentinel', 'cluster'] as const, 'standalone')!;
    const username = s.str('username', { nonEmpty: true });
    const password = s.str('password', { nonEmpty: true });
    const passwordFile = s.str('passwordFile', { nonEmpty: true });
    if (password !== undefined && passwordFile !== undefined) s.fail('password', 'give password or passwordFile, not both');
    const caFile = s.str('caFile', { nonEmpty: true });
    const sentinelMaster = s.str('sentinelMaster', { nonEmpty: true });
    const db = s.num('db', { min: 0, max: 1000, integer: true });
    const redis: RedisStoreOptions = {
      mode,
      addresses,
      tls: s.bool('tls', false),
      keyPrefix: s.str('keyPrefix') ?? 'oidc-judge:',
      commandTimeoutMs: s.num('commandTimeoutMs', { min: 10, max: 60_000, def: 1000, integer: true })!,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(db !== undefined ? { db } : {}),
      ...(sentinelMaster !== undefined ? { sentinelMaster } : {}),
    };
    if (mode === 'cluster' && (db ?? 0) !== 0) s.fail('db', 'must be 0 in cluster mode');
    out = { store, redis, ...(passwordFile !== undefined ? { passwordFile } : {}), ...(caFile !== undefined ? { caFile } : {}) };
  }
  s.done();
  return out;
}
