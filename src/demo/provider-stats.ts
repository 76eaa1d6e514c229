/**
 * What the development OpenID Provider has done, for tests and the demo's console: token
 * endpoint requests, sign-in attempts, logouts, back-channel logout deliveries and requests by
 * path, kept in order and also emitted as events (tests wait on events, never on time).
 * Never records a password, token or cookie.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../obs/log.js';

export interface TokenRequestRecord {
  readonly grantType: string;
  readonly clientId: string | undefined;
  readonly ok: boolean;
  /** The OAuth error code when `ok` is false. */
  readonly error?: string;
}

export interface LoginRecord {
  /** As typed in the form. */
  readonly username: string;
  readonly ok: boolean;
}

export interface BackchannelRecord {
  readonly clientId: string;
  readonly sub: string;
  readonly sid: string | undefined;
  readonly ok: boolean;
  readonly error?: string;
}

export interface DevProviderStats {
  /** Token endpoint requests, in order (authorization_code, refresh_token …). */
  readonly tokenRequests: readonly TokenRequestRecord[];
  /** Sign-in form submissions. */
  readonly logins: readonly LoginRecord[];
  /** Completed RP-initiated logouts (end_session confirmations). */
  readonly logouts: number;
  /** Back-channel logout deliveries. */
  readonly backchannel: readonly BackchannelRecord[];
  /** Requests received, by path (`/token`, `/token/revocation`, `/me`, …). */
  readonly requests: ReadonlyMap<string, number>;
}

/** Emits `token`, `login`, `logout` and `backchannel` with the record just added. */
export type DevProviderEvents = EventEmitter<{
  token: [TokenRequestRecord];
  login: [LoginRecord];
  logout: [];
  backchannel: [BackchannelRecord];
}>;

/** oidc-provider's event source, as used here. */
interface OpEvents {
  on(event: string, listener: (...args: never[]) => void): unknown;
}
interface OidcCtx {
  readonly oidc?: { readonly params?: Record<string, unknown>; readonly client?: { readonly clientId: string } };
}
interface OidcClient {
  readonly clientId: string;
}

export type DevLog = Pick<Logger, 'info' | 'warn' | 'error'>;

export class StatsRecorder {
  readonly events: DevProviderEvents = new EventEmitter();
  readonly #tokenRequests: TokenRequestRecord[] = [];
  readonly #logins: LoginRecord[] = [];
  readonly #backchannel: BackchannelRecord[] = [];
  readonly #requests = new Map<string, number>();
  #logouts = 0;

  constructor(private readonly log: DevLog | undefined) {}

  get stats(): DevProviderStats {
    return { tokenRequests: this.#tokenRequests, logins: this.#logins, logouts: this.#logouts, backchannel: this.#backchannel, requests: this.#requests };
  }

  requested(path: string): void {
    this.#requests.set(path, (this.#requests.get(path) ?? 0) + 1);
  }

  login(username: string, ok: boolean): void {
    this.log?.info({ username, ok }, 'demo provider: sign-in attempt');
    const r = { username, ok };
    this.#logins.push(r);
    this.events.emit('login', r);
  }

  /** Subscribes to the provider's own events. */
  attach(op: OpEvents): void {
    const token = (r: TokenRequestRecord): void => {
      this.#tokenRequests.push(r);
      this.events.emit('token', r);
    };
    const backchannel = (r: BackchannelRecord): void => {
      this.#backchannel.push(r);
      this.events.emit('backchannel', r);
    };
    const grantOf = (ctx: OidcCtx) => ({ grantType: String(ctx.oidc?.params?.['grant_type'] ?? ''), clientId: ctx.oidc?.client?.clientId });
    op.on('grant.success', (ctx: OidcCtx) => token({ ...grantOf(ctx), ok: true }));
    op.on('grant.error', (ctx: OidcCtx, err: { error?: string; message?: string }) =>
      token({ ...grantOf(ctx), ok: false, error: err.error ?? err.message ?? 'error' }),
    );
    op.on('end_session.success', () => {
      this.#logouts++;
      this.events.emit('logout');
    });
    op.on('backchannel.success', (_ctx: unknown, client: OidcClient, sub: string, sid: string | undefined) =>
      backchannel({ clientId: client.clientId, sub, sid, ok: true }),
    );
    op.on('backchannel.error', (_ctx: unknown, err: Error, client: OidcClient, sub: string, sid: string | undefined) => {
      this.log?.warn({ clientId: client.clientId, err: err.message }, 'demo provider: back-channel logout failed');
      backchannel({ clientId: client.clientId, sub, sid, ok: false, error: err.message });
    });
    op.on('server_error', (_ctx: unknown, err: Error) => this.log?.error({ err: err.message }, 'demo provider: server error'));
  }
}
