/**
 * Wires the identity assertion (`ASSERTION_HEADER`): its keys (key files, or a ring generated and
 * shared through the session store; either read again on a timer), the signer the judge is given, and
 * the JWKS and discovery documents the web server publishes. `undefined` when the header is unset.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { AssertionSigner } from '../judge/upstream/assertion.js';
import type { Logger } from '../obs/log.js';
import type { SessionStore } from '../sessions/store.js';
import { createAssertionSigner } from '../signing/assertions.js';
import { assertionDocuments, type AssertionDocuments } from '../signing/documents.js';
import { fileKeys, type AssertionKeys } from '../signing/key-files.js';
import { sharedKeyRing, type KeyRing } from '../signing/key-ring.js';
import { SIGNING_ALGS, type SigningKey } from '../signing/key.js';

export interface AssertionWiring {
  readonly signer: AssertionSigner;
  readonly documents: AssertionDocuments;
  /** Resolves once a key can sign (rejects when the keys cannot be had: start-up fails). */
  readonly ready: Promise<void>;
  /** Reads the keys again now (the shared ring, or the key files), as the timer does every ASSERTION_KEY_REFRESH. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export interface AssertionDeps {
  readonly store: SessionStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly readFile: (path: string) => string;
}

export function wireAssertion(config: Config, deps: AssertionDeps): AssertionWiring | undefined {
  const header = config.assertionHeader.trim().toLowerCase();
  if (header === '') return undefined;
  let keys: AssertionKeys | undefined;
  let reloadable: { refresh(): Promise<void> } | undefined;
  let timer: NodeJS.Timeout | undefined;
  const refreshMs = config.assertionKeyRefresh * 1000;
  const ready = (async () => {
    const reload =
      config.assertionKeyFile !== ''
        ? await fileKeys(config.assertionKeyFile, config.assertionPublishedKeyFiles, {
            read: deps.readFile,
            now: () => deps.clock.now(),
            // A signing key replaced in a mounted Secret stays published until its last assertion expires.
            retainMs: (config.assertionTtl + config.assertionKeyRefresh) * 1000,
          })
        : await sharedRing();
    keys = reload;
    reloadable = reload;
    timer = setInterval(
      () =>
        void reload
          .refresh()
          .catch((e: unknown) => deps.log.warn({ err: (e as Error).message }, 'could not read the assertion keys again; keeping the last ones')),
      refreshMs,
    );
    timer.unref();
  })();
  function sharedRing(): Promise<KeyRing> {
    return sharedKeyRing({
      store: deps.store,
      alg: config.assertionAlgorithm,
      rotateEveryMs: config.assertionKeyRotation * 1000,
      refreshMs,
      leadMs: config.assertionKeyLead * 1000,
      maxTtlMs: config.assertionTtl * 1000,
      clock: deps.clock,
      log: deps.log,
    });
  }
  // Awaited by startApp; marked handled here so that a caller that never awaits it is not ended by it.
  ready.catch(() => undefined);
  // Until the keys are read, nothing signs and nothing is published.
  const current: AssertionKeys = {
    signing: (): SigningKey | undefined => keys?.signing(),
    published: () => keys?.published() ?? [],
    close: () => Promise.resolve(),
  };
  const signer = createAssertionSigner({
    header,
    issuer: config.assertionIssuer,
    ttlSeconds: config.assertionTtl,
    claims: config.assertionClaims,
    audiences: config.assertionAudiences,
    keys: current,
    clock: deps.clock,
  });
  // Verifiers may cache the JWKS for a refresh at most: a new key is published two refreshes before it signs.
  const documents = assertionDocuments(config.assertionIssuer, current, SIGNING_ALGS, Math.max(1, Math.min(300, config.assertionKeyRefresh)));
  return {
    signer,
    documents,
    ready,
    refresh: () => reloadable?.refresh() ?? Promise.resolve(),
    async close() {
      clearInterval(timer);
      await keys?.close();
    },
  };
}
