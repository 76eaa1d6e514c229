/**
 * The development provider's storage: records in a Map of this provider alone, each dropped when
 * it expires — what the demo needs, and no more. oidc-provider's own quick-start adapter would do
 * as much, but shares one store between every provider of the process and warns, on every start,
 * that production needs something else; the demo is not production and must not print warnings.
 * The methods are oidc-provider's adapter interface (upsert, find, findByUid, findByUserCode,
 * consume, destroy, revokeByGrantId).
 */

interface Entry {
  readonly payload: Record<string, unknown>;
  /** Epoch ms; `Infinity` when the record does not expire. */
  readonly expiresAt: number;
}

/** Records kept before a write sweeps the expired ones out. */
const SWEEP_AT = 5000;

export interface AdapterClass {
  new (name: string): unknown;
}

/** A fresh adapter class for one provider (`new Provider(issuer, { adapter: memoryAdapter() })`). */
export function memoryAdapter(now: () => number = Date.now): AdapterClass {
  const records = new Map<string, Entry>();
  /** `grant:<id>`, `uid:<uid>`, `userCode:<code>` → the keys of the records they name. */
  const index = new Map<string, Set<string>>();

  const live = (key: string): Record<string, unknown> | undefined => {
    const e = records.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now()) {
      records.delete(key);
      return undefined;
    }
    return e.payload;
  };
  const link = (name: string, key: string): void => {
    let keys = index.get(name);
    if (keys === undefined) index.set(name, (keys = new Set()));
    keys.add(key);
  };
  const firstLive = (name: string): Record<string, unknown> | undefined => {
    for (const key of index.get(name) ?? []) {
      const p = live(key);
      if (p !== undefined) return p;
    }
    return undefined;
  };
  const sweep = (): void => {
    const t = now();
    for (const [key, e] of records) if (e.expiresAt <= t) records.delete(key);
    for (const [name, keys] of index) {
      for (const key of keys) if (!records.has(key)) keys.delete(key);
      if (keys.size === 0) index.delete(name);
    }
  };

  return class MemoryAdapter {
    readonly #model: string;
    constructor(name: string) {
      this.#model = name;
    }
    #key(id: string): string {
      return `${this.#model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      if (records.size >= SWEEP_AT) sweep();
      const key = this.#key(id);
      records.set(key, { payload, expiresAt: typeof expiresIn === 'number' ? now() + expiresIn * 1000 : Infinity });
      if (typeof payload['grantId'] === 'string') link(`grant:${payload['grantId']}`, key);
      if (typeof payload['uid'] === 'string') link(`uid:${payload['uid']}`, key);
      if (typeof payload['userCode'] === 'string') link(`userCode:${payload['userCode']}`, key);
    }
    async find(id: string): Promise<Record<string, unknown> | undefined> {
      return live(this.#key(id));
    }
    async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      return firstLive(`uid:${uid}`);
    }
    async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
      return firstLive(`userCode:${userCode}`);
    }
    async consume(id: string): Promise<void> {
      const p = live(this.#key(id));
      if (p !== undefined) p['consumed'] = Math.floor(now() / 1000);
    }
    async destroy(id: string): Promise<void> {
      records.delete(this.#key(id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      for (const key of index.get(`grant:${grantId}`) ?? []) records.delete(key);
      index.delete(`grant:${grantId}`);
    }
  };
}
