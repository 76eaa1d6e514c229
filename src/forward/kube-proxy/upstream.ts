/**
 * The Kubernetes proxy's own credentials and upstream: a kubeconfig (its current context) or the
 * in-cluster service account (src/kube/credentials.ts), with kubectl-style overrides on top
 * (`server`, CA file, token file, client certificate and key, skip-verify). In a pod whose
 * service host and port were not passed in, the server is `https://kubernetes.default.svc`. The bearer token is
 * re-read when its file changes (projected tokens rotate), so callers ask for it per exchange.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SERVICE_ACCOUNT_DIR, fileCredentials, loadKubeCredentials, type KubeCredentials } from '../../kube/credentials.js';
import type { UpstreamTls } from '../engine/proxy.js';
import type { KubeClientConfig } from './options.js';

export interface CredentialIo {
  readonly readFile: (path: string) => string;
  readonly statMtimeMs?: (path: string) => number | undefined;
}

/** The API server's in-cluster name, used when `KUBERNETES_SERVICE_HOST`/`_PORT` were not given. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/** The file's mtime, or undefined when it cannot be read. */
export function fileMtimeMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function readable(io: CredentialIo, path: string): string | undefined {
  try {
    return io.readFile(path);
  } catch {
    return undefined;
  }
}

/** Throws an Error naming the option (or the kubeconfig) when no usable credentials can be put together. */
export function kubeCredentialsFor(c: KubeClientConfig, io: CredentialIo): KubeCredentials {
  const saDir = c.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR;
  const base = loadKubeCredentials({
    readFile: io.readFile,
    ...(io.statMtimeMs !== undefined ? { statMtimeMs: io.statMtimeMs } : {}),
    ...(c.kubeconfig !== undefined ? { kubeconfig: c.kubeconfig } : {}),
    serviceAccountDir: saDir,
    ...(c.serviceHost !== undefined ? { serviceHost: c.serviceHost } : {}),
    ...(c.servicePort !== undefined ? { servicePort: c.servicePort } : {}),
  });
  const read = (option: string, path: string): string => {
    try {
      return io.readFile(path);
    } catch (e) {
      throw new Error(`${option}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const overridden =
    c.server !== undefined || c.caFile !== undefined || c.tokenFile !== undefined || c.clientCertificate !== undefined || c.insecureSkipTlsVerify;
  if (base !== undefined && !overridden) return base;
  // No kubeconfig and no service host/port given, but a service-account token: a pod.
  const saToken = join(saDir, 'token');
  const inPod = base === undefined && readable(io, saToken) !== undefined;
  const server = c.server ?? base?.server ?? (inPod ? IN_CLUSTER_SERVER : undefined);
  if (server === undefined) throw new Error('no Kubernetes credentials: give kubeconfig or kubeServer, or run in a pod with a service-account token');
  if (c.tokenFile !== undefined) read('kubeTokenFile', c.tokenFile);
  const tokenPath = c.tokenFile ?? (inPod ? saToken : undefined);
  const tokens = tokenPath !== undefined ? fileCredentials({ source: 'kubeconfig', server, tokenPath }, io) : base;
  const ca = c.caFile !== undefined ? read('kubeCaFile', c.caFile) : base !== undefined ? base.ca : inPod ? readable(io, join(saDir, 'ca.crt')) : undefined;
  const cert = c.clientCertificate !== undefined ? read('kubeClientCertificate', c.clientCertificate) : base?.cert;
  const key = c.clientKey !== undefined ? read('kubeClientKey', c.clientKey) : base?.key;
  return {
    source: base?.source ?? (inPod ? 'in-cluster' : 'kubeconfig'),
    server: server.replace(/\/+$/, ''),
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
    ...(c.insecureSkipTlsVerify || base?.insecureSkipTlsVerify === true ? { insecureSkipTlsVerify: true } : {}),
    authorization: (reread?: boolean) => tokens?.authorization(reread),
  };
}

/** TLS for the proxy engine: the cluster CA always; the client certificate only for the credentialed engine. */
export function upstreamTls(creds: KubeCredentials, withClientCert: boolean): UpstreamTls {
  return {
    ...(creds.ca !== undefined ? { ca: creds.ca } : {}),
    ...(withClientCert && creds.cert !== undefined && creds.key !== undefined ? { cert: creds.cert, key: creds.key } : {}),
    rejectUnauthorized: creds.insecureSkipTlsVerify !== true,
  };
}
