/**
 * The Redis session store (ioredis 6): standalone, Sentinel or Cluster, optionally over TLS.
 *
 * Availability: opening never waits for Redis. Commands are only sent on a ready connection
 * (no offline queue, nothing re-sent after a reconnect), a command that gets no answer fails
 * after `commandTimeoutMs`, and while Redis is down every method rejects with
 * `StoreUnavailableError` at once (or after at most `commandTimeoutMs` while a connection attempt
 * is under way). The client reconnects by itself with a capped backoff. A Redis that keeps the
 * connection but stops answering (a Cluster whose slots lost their master, a stopped or swapping
 * server) would cost every call a long wait. Standalone and Sentinel: after a command fails slowly
 * (it timed out, or took a quarter of the timeout), one call at a time probes Redis and the others
 * fail at once, until a call succeeds. Cluster: a stalled node must not fail the calls bound for
 * the healthy ones, so instead the client's retries are bounded (redis-client.ts).
 *
 * Keys: `<prefix>s:<key>` sessions, `<prefix>l:<name>` locks,
 * `<prefix>x:<subject|sid>:<value>` index sets, `<prefix>j:<key>` one-time claims, `<prefix>k:<name>` shared secrets (no TTL); the revocation
 * feed publishes on `<prefix>revocations` (`redis-feed.ts`). Record layout and scripts:
 * `redis-format.ts`. No command touches two keys, so nothing crosses Cluster slots.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { RevocationFeed, RevocationFeedOptions } from './feed.js';
import { createClient, createSubscriberClient, type Client, type RedisAddress, type RedisStoreOptions } from './redis-client.js';
import { RedisRevocationFeed } from './redis-feed.js';
import { decodeSession, encodeSession, expiryBytes, SCRIPTS, type ScriptName } from './redis-format.js';
import { StoreUnavailableError, type SessionStore, type StoreLock, type StoredRecord } from './store.js';
import type { SessionIndex } from './session-index.js';

export type { RedisAddress, RedisStoreOptions } from './redis-client.js';

export interface RedisStore extends SessionStore {
  readonly kind: 'redis';
}

type ScriptFn = (this: Client, key: string, ...args: (string | number | Buffer)[]) => Promise<unknown>;

/** Opens the store; returns at once (the connection is made in the background). */
export function openRedisStore(opts: RedisStoreOptions): RedisStore {
  return new RedisSessionStore(createClient(opts), opts);
}

class RedisSessionStore implements RedisStore {
  readonly kind = 'redis';
  private lastError = 'not connected yet';
  private waiting: Promise<void> | undefined;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private nextNode = 0;
  /** Set when a command failed slowly, cleared when one succeeds: meanwhile one call at a time is sent. */
  private hung: string | undefined;
  private probing = false;

  constructor(
    private readonly client: Client,
    private readonly opts: RedisStoreOptions,
  ) {
    this.prefix = opts.keyPrefix ?? 'oidc-judge:';
    this.timeoutMs = opts.commandTimeoutMs ?? 1000;
    for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 1, lua });
    // Errors surface through the rejected calls; without listeners ioredis would print them.
    const remember = (err: Error): void => {
      this.lastError = err.message;
    };
    client.on('error', remember);
    client.on('node error', remember);
  }

  private sessionKey = (key: string): string => `${this.prefix}s:${key}`;
  private lockKey = (name: string): string => `${this.prefix}l:${name}`;
  private indexKey = (field: keyof SessionIndex, value: string): string => `${this.prefix}x:${field}:${value}`;
  private claimKey = (key: string): string => `${this.prefix}j:${key}`;
  private secretKey = (name: string): string => `${this.prefix}k:${name}`;

  private unavailable(detail: string): StoreUnavailableError {
    return new StoreUnavailableError(`redis unavailable: ${detail}`);
  }

  /** Resolves when the client is ready; waits at most one timeout while a connection attempt is under way. */
  private ready(): Promise<void> {
    const status = this.client.status;
    if (status === 'ready') return Promise.resolve();
    if (status === 'end') return Promise.reject(this.unavailable('the store is closed'));
    if (status !== 'wait' && status !== 'connecting' && status !== 'connect') return Promise.reject(this.unavailable(`${status} (${this.lastError})`));
    // One shared wait, however many calls arrive while connecting.
    return (this.waiting ??= new Promise<void>((resolve, reject) => {
      const done = (err?: StoreUnavailableError): void => {
        this.waiting = undefined;
        clearTimeout(timer);
        this.client.off('ready', onReady);
        this.client.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onReady = (): void => done();
      const onClose = (): void => done(this.unavailable(`connection failed (${this.lastError})`));
      const timer = setTimeout(() => done(this.unavailable(`no connection within ${this.timeoutMs} ms (${this.lastError})`)), this.timeoutMs);
      this.client.once('ready', onReady);
      this.client.once('close', onClose);
    }));
  }

  /** Runs `op` on a ready client; every failure becomes `StoreUnavailableError` (messages carry no values). */
  private async run<T>(op: (c: Client) => Promise<T>): Promise<T> {
    await this.ready();
    if (this.hung !== undefined && this.probing) throw this.unavailable(`not answering (${this.hung}); one call is probing`);
    const probe = this.hung !== undefined;
    const breaker = this.opts.mode !== 'cluster';
    if (probe) this.probing = true;
    const started = performance.now();
    try {
      const out = await op(this.client);
      this.hung = undefined;
      return out;
    } catch (err) {
      const message = (err as Error).message;
      if (breaker && (/timed out/i.test(message) || performance.now() - started >= this.timeoutMs / 4)) this.hung = message;
      throw this.unavailable(message);
    } finally {
      if (probe) this.probing = false;
    }
  }

  private script(c: Client, name: ScriptName, key: string, ...args: (string | number | Buffer)[]): Promise<unknown> {
    const fn = (c as unknown as Record<ScriptName, ScriptFn>)[name];
    return fn.call(c, key, ...args);
  }

  private addToIndexes(c: Client, key: string, index: SessionIndex, expiresAt: number): Promise<unknown> {
    const adds = (['subject', 'sid'] as const).filter((f) => index[f]).map((f) => this.script(c, 'indexAdd', this.indexKey(f, index[f]!), key, expiresAt));
    return Promise.all(adds);
  }

  async put(key: string, value: Uint8Array, expiresAt: number, index: SessionIndex = {}): Promise<void> {
    const record = encodeSession(value, expiresAt, index);
    await this.run(async (c) => {
      // Index first: a failure leaves at worst a set member without a session, never a session its index cannot find.
      await this.addToIndexes(c, key, index, expiresAt);
      await c.set(this.sessionKey(key), record, 'PXAT', expiresAt);
    });
  }

  async update(key: string, value: Uint8Array, expiresAt: number, index: SessionIndex, now: number): Promise<boolean> {
    const record = encodeSession(value, expiresAt, index);
    return this.run(async (c) => {
      await this.addToIndexes(c, key, index, expiresAt);
      return (await this.script(c, 'sessionUpdate', this.sessionKey(key), record, expiresAt, now)) === 1;
    });
  }

  async get(key: string, now: number): Promise<StoredRecord | undefined> {
    const raw = await this.run((c) => c.getBuffer(this.sessionKey(key)));
    const rec = raw && decodeSession(raw);
    return rec && rec.expiresAt > now ? rec : undefined;
  }

  async touch(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.run(async (c) => {
      const reply = (await this.script(c, 'sessionTouch', this.sessionKey(key), expiryBytes(expiresAt), now, expiresAt)) as [number, string?, string?];
      if (reply[0] !== 1) return false;
      // The index sets must outlive the session they point to.
      await this.addToIndexes(c, key, { ...(reply[1] ? { subject: reply[1] } : {}), ...(reply[2] ? { sid: reply[2] } : {}) }, expiresAt);
      return true;
    });
  }

  async delete(key: string): Promise<boolean> {
    return (await this.run((c) => c.del(this.sessionKey(key)))) > 0;
  }

  async deleteByIndex(field: keyof SessionIndex, value: string, also: SessionIndex = {}): Promise<string[]> {
    const setKey = this.indexKey(field, value);
    return this.run(async (c) => {
      const members = await c.smembers(setKey);
      if (members.length === 0) return [];
      // A member whose session was since replaced under another index value is left alone.
      const gone = await Promise.all(
        members.map((m) => this.script(c, 'sessionDeleteIfIndexed', this.sessionKey(m), field, value, also.subject ?? '', also.sid ?? '')),
      );
      // Members that did not match `also` stay in the set: their sessions still carry this value.
      const removed = also.subject === undefined && also.sid === undefined ? members : members.filter((_, i) => gone[i] === 1);
      if (removed.length > 0) await c.srem(setKey, ...removed);
      return members.filter((_, i) => gone[i] === 1);
    });
  }

  async claimOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return (await this.run((c) => this.script(c, 'claimOnce', this.claimKey(key), expiresAt, now))) === 1;
  }

  async sharedSecret(name: string, candidate: Uint8Array): Promise<Uint8Array> {
    const key = this.secretKey(name);
    return this.run(async (c) => {
      // SET NX: the first replica's candidate wins; every replica then reads the same bytes.
      await c.set(key, Buffer.from(candidate), 'NX');
      const stored = await c.getBuffer(key);
      if (stored === null) throw new Error('shared secret vanished after SET NX');
      return stored;
    });
  }

  revocationFeed(opts: RevocationFeedOptions = {}): RevocationFeed {
    const connect = this.opts.mode === 'cluster' ? () => createSubscriberClient(this.opts, this.pickNode()) : () => createSubscriberClient(this.opts);
    return new RedisRevocationFeed(
      { channel: `${this.prefix}revocations`, publish: (channel, message) => this.run((c) => c.publish(channel, message)), connect },
      opts,
    );
  }

  /** Cluster mode: the nodes the client knows now, then the seed nodes, taken in turn. */
  private pickNode(): RedisAddress {
    const known = (this.client as Cluster).nodes('all').map((n) => ({ host: String(n.options.host), port: Number(n.options.port) }));
    const all = [...known, ...this.opts.addresses];
    return all[this.nextNode++ % all.length]!;
  }

  async lock(name: string, ttlMs: number, now: number): Promise<StoreLock | undefined> {
    const key = this.lockKey(name);
    const token = `${now + ttlMs}:${randomBytes(16).toString('base64url')}`;
    const taken = await this.run((c) => this.script(c, 'lockTake', key, token, now, Math.max(1, Math.ceil(ttlMs))));
    if (taken !== 1) return undefined;
    let released = false;
    return {
      release: async () => {
        if (released) return;
        await this.run((c) => this.script(c, 'lockRelease', key, token));
        released = true;
      },
    };
  }

  async sweep(): Promise<number> {
    return 0; // Redis expires records by itself (PXAT).
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.run((c) => c.ping())) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
        return;
      } catch {
        // fall through to a hard disconnect
      }
    }
    this.client.disconnect();
  }
}
