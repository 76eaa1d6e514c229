/**
 * The device login (RFC 8628), for programs on machines without a browser. `POST <prefix>/api/device`
 * answers a device code (the program's secret), a short user code and where to enter it; the user
 * approves on the judge's own page (`device-page.ts`) after signing in, and the program, polling
 * `<prefix>/api/token` with the device code, then receives a program credential.
 *
 * Two records in the session store, both expiring with the request (`DEVICE_TTL_S`): by device code
 * (sealed under it) the user code, and by user code (sealed under it) the request — which program,
 * from where, its state and, once approved, the credential waiting for it. The device code itself is
 * kept only as a hash, so the (low-entropy) user code never leads to it. Single use throughout:
 * approving or refusing claims the user code, handing the credential out claims the device code.
 * Rate limits (§5.1, §5.2): device requests per client address, polls faster than the interval
 * answer `slow_down` (and the interval grows by 5 s, as the RFC says).
 */
import { hash, randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../obs/log.js';
import { parseSession, type Session } from '../../sessions/session.js';
import type { SessionStore } from '../../sessions/store.js';
import { claimKey, isWellFormedId, newSecretId, seal, storeKey, unseal } from '../../sessions/ticket.js';
import { clientName } from './credential.js';
import { type FormHandler, type FormReply, jsonReply, oauthError } from './http.js';
import { WindowLimit } from './limits.js';

export const DEVICE_TTL_S = 600;
export const INTERVAL_S = 5;
/** Consonants only (no vowels: no words; no look-alikes such as 0/O, 1/I): 20^8 ≈ 2^34.6 codes (RFC 8628 §6.1). */
const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;
/** Device requests per client address per window. */
const REQUESTS_PER_WINDOW = 20;
const WINDOW_MS = 10 * 60_000;

export interface DeviceRequest {
  readonly deviceHash: string;
  readonly client: string;
  /** The address the program asked from, and its user agent: shown on the approval page. */
  readonly from: string;
  readonly agent: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly status: 'pending' | 'approved' | 'denied';
  /** The credential waiting for the program, once approved. */
  readonly session?: Session;
}

export interface DeviceDeps {
  readonly store: SessionStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** `<prefix>/api/device/verify` as the program's request reached us (absolute). */
  readonly verificationUri: (req: IncomingMessage) => string;
  /** Stores a credential and answers the token endpoint's success (token.ts). */
  readonly issue: (waiting: Session) => Promise<FormReply>;
}

/** `XXXX-XXXX` as the user sees it. */
export function displayCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** A user code as typed (any case, dashes, spaces) in its stored form, or `undefined` when it cannot be one. */
export function normalizeUserCode(typed: string | null | undefined): string | undefined {
  if (typed === null || typed === undefined || typed.length > 32) return undefined;
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  return code.length === USER_CODE_LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : undefined;
}

const hashOf = (deviceCode: string): string => hash('sha256', `oidc-judge/device-code\0${deviceCode}`, 'base64url');

function fromOf(req: IncomingMessage): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().slice(0, 64);
  return first ? `${first} (via ${peer})` : peer;
}

export class DeviceGrants {
  readonly #deps: DeviceDeps;
  readonly #requests = new WindowLimit(REQUESTS_PER_WINDOW, WINDOW_MS);
  /** Per device code hash: when it was last polled, and its interval (seconds). This replica's view. */
  readonly #polls = new Map<string, { last: number; interval: number }>();

  constructor(deps: DeviceDeps) {
    this.#deps = deps;
  }

  async #putRequest(userCode: string, r: DeviceRequest): Promise<void> {
    const key = storeKey('device-user', userCode);
    await this.#deps.store.put(key, seal('device-user', userCode, JSON.stringify(r), key), r.expiresAt);
  }

  /** The live request of a user code (normalized), or `undefined`. Store failures throw. */
  async find(userCode: string): Promise<DeviceRequest | undefined> {
    const now = this.#deps.clock.now();
    const key = storeKey('device-user', userCode);
    const rec = await this.#deps.store.get(key, now);
    const json = rec === undefined ? undefined : unseal('device-user', userCode, rec.value, key);
    if (json === undefined) return undefined;
    try {
      const r = JSON.parse(json) as DeviceRequest;
      if (r.expiresAt <= now || typeof r.deviceHash !== 'string') return undefined;
      const session = r.session === undefined ? undefined : parseSession(JSON.stringify(r.session));
      return { ...r, ...(session !== undefined ? { session } : {}) };
    } catch {
      return undefined;
    }
  }

  /**
   * The user's answer for a pending request: approved with the credential `waiting` (made from
   * their browser session), or refused. Once per user code; false when it is gone or was answered.
   */
  async decide(userCode: string, answer: (r: DeviceRequest) => Session | undefined): Promise<boolean> {
    const now = this.#deps.clock.now();
    const r = await this.find(userCode);
    if (r === undefined || r.status !== 'pending') return false;
    const waiting = answer(r);
    if (!(await this.#deps.store.claimOnce(claimKey('device-approval', '', userCode), r.expiresAt, now))) return false;
    await this.#putRequest(userCode, waiting === undefined ? { ...r, status: 'denied' } : { ...r, status: 'approved', session: waiting });
    this.#deps.log.info({ user: waiting?.user, client: r.client, approved: waiting !== undefined }, 'device login answered');
    return true;
  }

  /** `POST <prefix>/api/device` (RFC 8628 §3.1, §3.2). */
  readonly authorize: FormHandler = async (form, req) => {
    const now = this.#deps.clock.now();
    const from = fromOf(req);
    if (!this.#requests.take(req.socket.remoteAddress ?? '', now)) return oauthError(429, 'slow_down', 'too many device requests from this address');
    const deviceCode = newSecretId();
    let userCode = '';
    for (let i = 0; i < USER_CODE_LENGTH; i++) userCode += ALPHABET[randomInt(ALPHABET.length)];
    const expiresAt = now + DEVICE_TTL_S * 1000;
    const request: DeviceRequest = {
      deviceHash: hashOf(deviceCode),
      client: clientName(form.get('client_name') ?? form.get('client_id')),
      from,
      agent: String(req.headers['user-agent'] ?? 'unknown').slice(0, 128),
      createdAt: now,
      expiresAt,
      status: 'pending',
    };
    const deviceKey = storeKey('device', deviceCode);
    await this.#deps.store.put(deviceKey, seal('device', deviceCode, userCode, deviceKey), expiresAt);
    await this.#putRequest(userCode, request);
    const uri = this.#deps.verificationUri(req);
    const complete = new URL(uri);
    complete.searchParams.set('user_code', displayCode(userCode));
    return jsonReply(200, {
      device_code: deviceCode,
      user_code: displayCode(userCode),
      verification_uri: uri,
      verification_uri_complete: complete.href,
      expires_in: DEVICE_TTL_S,
      interval: INTERVAL_S,
    });
  };

  /** The token endpoint's device grant (RFC 8628 §3.4, §3.5). */
  readonly grant: FormHandler = async (form) => {
    const deviceCode = form.get('device_code');
    if (deviceCode === null) return oauthError(400, 'invalid_request', 'device_code is required');
    if (!isWellFormedId(deviceCode)) return oauthError(400, 'invalid_grant');
    const { store, clock } = this.#deps;
    const now = clock.now();
    const deviceKey = storeKey('device', deviceCode);
    const rec = await store.get(deviceKey, now);
    const userCode = rec === undefined ? undefined : unseal('device', deviceCode, rec.value, deviceKey);
    const r = userCode === undefined ? undefined : await this.find(userCode);
    const deviceHash = hashOf(deviceCode);
    if (userCode === undefined || r === undefined || r.deviceHash !== deviceHash) {
      this.#polls.delete(deviceHash);
      return oauthError(400, 'expired_token');
    }
    if (r.status === 'pending') {
      const poll = this.#polls.get(deviceHash);
      if (poll !== undefined && now - poll.last < poll.interval * 1000) {
        poll.interval += 5;
        poll.last = now;
        return oauthError(400, 'slow_down');
      }
      if (this.#polls.size > 10_000) this.#polls.clear();
      this.#polls.set(deviceHash, { last: now, interval: poll?.interval ?? INTERVAL_S });
      return oauthError(400, 'authorization_pending');
    }
    this.#polls.delete(deviceHash);
    const done = async (): Promise<void> => {
      await store.delete(deviceKey);
      await store.delete(storeKey('device-user', userCode));
    };
    if (r.status === 'denied' || r.session === undefined) {
      await done();
      return oauthError(400, 'access_denied');
    }
    if (!(await store.claimOnce(claimKey('device-code', '', deviceCode), r.expiresAt, now))) return oauthError(400, 'invalid_grant');
    await done();
    return this.#deps.issue(r.session);
  };
}
