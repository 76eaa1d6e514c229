/**
 * `oidc-judge sessions revoke --sub X [--iss Y] | --sid X`: ends a user's sessions (or one provider
 * session's) in the configured store, tells the running processes through the store's revocation
 * feed so they drop their cached copies, and prints how many sessions ended. Exit codes: 0 done,
 * 1 the store cannot be opened or does not answer (usage errors, 2, are the caller's).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { RevokeArgs } from './cli-args.js';
import { systemClock } from './clock.js';
import type { Config } from './config/schema.js';
import { openSessionStore } from './sessions/open.js';
import { Sessions } from './sessions/sessions.js';
import type { SessionStore } from './sessions/store.js';

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly readFile: (path: string) => string;
}

/** How long to wait for the store to answer before giving up (Redis connects in the background). */
const CONNECT_WAIT_MS = 5000;

async function answering(store: SessionStore): Promise<boolean> {
  const deadline = Date.now() + CONNECT_WAIT_MS;
  while (!(await store.ping())) {
    if (Date.now() > deadline) return false;
    await delay(100);
  }
  return true;
}

export async function revokeCommand(config: Config, args: RevokeArgs, io: CommandIo): Promise<number> {
  let store: SessionStore;
  try {
    store = openSessionStore(config, io.readFile);
  } catch (e) {
    io.err(`oidc-judge sessions revoke: ${(e as Error).message}\n`);
    return 1;
  }
  const sessions = new Sessions(store, systemClock, {
    idleTimeoutSeconds: 0,
    cacheTtlSeconds: 0,
    feed: store.revocationFeed(),
    onFeedError: () => io.err('warning: the running processes could not be told; their caches drop the sessions within SESSION_CACHE_TTL\n'),
  });
  try {
    if (!(await answering(store))) {
      io.err(`oidc-judge sessions revoke: the ${store.kind} session store does not answer\n`);
      return 1;
    }
    const ended = await sessions.revoke({
      iss: args.iss ?? config.oidcProvider,
      ...(args.sub !== undefined ? { sub: args.sub } : {}),
      ...(args.sid !== undefined ? { sid: args.sid } : {}),
    });
    io.out(`${ended} session${ended === 1 ? '' : 's'} ended\n`);
    return 0;
  } catch (e) {
    io.err(`oidc-judge sessions revoke: the ${store.kind} session store is unavailable (${(e as Error).message})\n`);
    return 1;
  } finally {
    await sessions.close();
    await store.close();
  }
}
