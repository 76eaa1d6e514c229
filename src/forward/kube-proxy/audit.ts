/**
 * Kubernetes-style audit events (`audit.k8s.io/v1` `Event`, level `Metadata`) for the Kubernetes
 * proxy: `RequestReceived` once a caller is authenticated, `ResponseStarted` when a long-running
 * response (watch, exec, logs, an upgrade) starts, `ResponseComplete` when it ends, and — unlike
 * kube-oidc-proxy — a `ResponseStarted` with code 401 and "Authentication failed, attempted:
 * bearer" for every refused credential. Sinks: a JSON-lines file with size rotation, or the
 * service log (`-`). Not here: audit policy files, the webhook sink, batching, request/response
 * bodies (levels above `Metadata`).
 */
import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../obs/log.js';
import type { KubeUser } from './impersonate.js';
import type { ObjectRef } from './request-info.js';

export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete';

export interface AuditUser {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface AuditEvent {
  readonly kind: 'Event';
  readonly apiVersion: 'audit.k8s.io/v1';
  readonly level: 'Metadata';
  readonly auditID: string;
  readonly stage: AuditStage;
  readonly requestURI: string;
  readonly verb: string;
  readonly user: AuditUser;
  readonly impersonatedUser?: AuditUser;
  readonly sourceIPs: readonly string[];
  readonly userAgent?: string;
  readonly objectRef?: ObjectRef;
  readonly responseStatus?: { readonly metadata: Record<string, never>; readonly code: number; readonly message?: string; readonly status?: 'Failure' };
  readonly requestReceivedTimestamp: string;
  readonly stageTimestamp: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface AuditSink {
  write(event: AuditEvent): void;
  close(): Promise<void>;
}

export function auditUser(u: KubeUser): AuditUser {
  return {
    username: u.username,
    ...(u.uid !== undefined ? { uid: u.uid } : {}),
    groups: u.groups,
    ...(Object.keys(u.extra).length > 0 ? { extra: u.extra } : {}),
  };
}

/** Events as `info` log records (`audit: <event>`): the `-` path. */
export function logAuditSink(log: Logger): AuditSink {
  return { write: (event) => log.info({ audit: event }, 'audit event'), close: async () => undefined };
}

/**
 * JSON lines appended to `path` (written synchronously: a line is on disk, in order, before the
 * request goes on); past `maxSizeMb` (0: never) the file becomes `path.1` (older ones shift, at
 * most `maxBackups` kept). Throws, naming the path, when the file cannot be opened.
 */
export function fileAuditSink(path: string, maxSizeMb: number, maxBackups: number, log: Logger): AuditSink {
  const maxBytes = maxSizeMb * 1024 * 1024;
  const open = (): number => {
    try {
      return openSync(path, 'a', 0o600);
    } catch (e) {
      throw new Error(`auditLogPath: cannot open ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  let fd: number | undefined = open();
  let size = fstatSync(fd).size;
  const rotate = (): void => {
    closeSync(fd!);
    fd = undefined;
    try {
      rmSync(`${path}.${maxBackups}`, { force: true });
      for (let i = maxBackups - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      if (maxBackups > 0) renameSync(path, `${path}.1`);
      else rmSync(path, { force: true });
    } catch (e) {
      log.error({ path, err: (e as Error).message }, 'audit log rotation failed; appending to the same file');
    }
    fd = open();
    size = fstatSync(fd).size;
  };
  return {
    write(event) {
      if (fd === undefined) return;
      const line = Buffer.from(JSON.stringify(event) + '\n');
      try {
        writeSync(fd, line);
        size += line.length;
        if (maxBytes > 0 && size >= maxBytes) rotate();
      } catch (e) {
        log.error({ path, err: (e as Error).message }, 'audit log write failed');
      }
    },
    async close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

export interface AuditRequestFacts {
  readonly auditID: string;
  readonly requestURI: string;
  readonly verb: string;
  readonly objectRef?: ObjectRef;
  readonly sourceIPs: readonly string[];
  readonly userAgent?: string;
  readonly longRunning: boolean;
}

/** The events of one request, written to `sink` (or nowhere) as its stages pass. */
export class AuditTrail {
  readonly #received: string;
  #user: AuditUser = {};
  #impersonated: AuditUser | undefined;
  #done = false;
  #started = false;

  constructor(
    private readonly sink: AuditSink | undefined,
    private readonly clock: Clock,
    private readonly facts: AuditRequestFacts,
  ) {
    this.#received = this.#now();
  }

  #now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  #emit(stage: AuditStage, status?: AuditEvent['responseStatus']): void {
    if (this.sink === undefined) return;
    const f = this.facts;
    this.sink.write({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: f.auditID,
      stage,
      requestURI: f.requestURI,
      verb: f.verb,
      user: this.#user,
      ...(this.#impersonated !== undefined ? { impersonatedUser: this.#impersonated } : {}),
      sourceIPs: f.sourceIPs,
      ...(f.userAgent !== undefined ? { userAgent: f.userAgent } : {}),
      ...(f.objectRef !== undefined ? { objectRef: f.objectRef } : {}),
      ...(status !== undefined ? { responseStatus: status } : {}),
      requestReceivedTimestamp: this.#received,
      stageTimestamp: this.#now(),
    });
  }

  /** The caller is authenticated (and, with inbound impersonation, who it acts as). */
  received(user: KubeUser, impersonated?: KubeUser): void {
    this.#user = auditUser(user);
    if (impersonated !== undefined) this.#impersonated = auditUser(impersonated);
    this.#emit('RequestReceived');
  }

  /** The response head went out (only long-running requests get a `ResponseStarted`). */
  head(code: number): void {
    if (!this.facts.longRunning || this.#started || this.#done) return;
    this.#started = true;
    this.#emit('ResponseStarted', { metadata: {}, code });
  }

  /** The exchange ended (`code` 0: no response was sent). */
  complete(code: number, message?: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#emit('ResponseComplete', { metadata: {}, code, ...(message !== undefined ? { message, status: 'Failure' as const } : {}) });
  }

  /** The credential was refused: one `ResponseStarted` with 401, as kube-apiserver writes it. */
  authenticationFailed(): void {
    if (this.#done) return;
    this.#done = true;
    this.#emit('ResponseStarted', { metadata: {}, code: 401, message: 'Authentication failed, attempted: bearer', status: 'Failure' });
  }
}
