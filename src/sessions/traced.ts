/**
 * A session store whose calls become spans (`store.get`, `store.put`, …) under the active check's
 * span. The wiring wraps the store with it only when tracing is on; keys, values and secret names
 * never become attributes — only the backend (`db.system.name`).
 */
import type { Tracing } from '../obs/trace/port.js';
import type { SessionStore } from './store.js';

const TRACED = ['put', 'update', 'get', 'touch', 'delete', 'deleteByIndex', 'claimOnce', 'sharedSecret', 'lock'] as const;

export function tracedStore(store: SessionStore, tracing: Tracing): SessionStore {
  const attributes = { 'db.system.name': store.kind };
  const wrapped: Record<string, unknown> = {};
  for (const name of TRACED) {
    const call = store[name] as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = (...args: unknown[]) => tracing.call(`store.${name}`, attributes, () => call.apply(store, args));
  }
  return {
    kind: store.kind,
    revocationFeed: (opts) => store.revocationFeed(opts),
    sweep: (now) => store.sweep(now),
    ping: () => store.ping(),
    close: () => store.close(),
    ...wrapped,
  } as SessionStore;
}
