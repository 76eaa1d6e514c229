/**
 * Builds the Kubernetes service-account authenticator from the config: credentials from
 * `KUBECONFIG` or the in-cluster files (`KUBERNETES_SERVICE_HOST`/`_PORT` and the mounted
 * service-account token), read through node:fs. When neither exists the authenticator is off, with
 * one INFO line saying why (oidc-authservice refused to start instead). A broken kubeconfig is a
 * startup error naming `KUBECONFIG` and the file.
 */
import { issuerNames } from '../config/jwt-issuers.js';
import { readFileSync, statSync } from 'node:fs';
import { KubernetesAuthenticator, type KubernetesAuthnConfig, type KubernetesAuthnOptions } from '../authn/kubernetes.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../obs/log.js';
import { KubeClient } from '../kube/client.js';
import { DEFAULT_SERVICE_ACCOUNT_DIR, loadKubeCredentials, type LoadKubeOptions } from '../kube/credentials.js';

export type KubernetesSetupConfig = KubernetesAuthnConfig &
  Pick<Config, 'kubeconfig' | 'kubernetesServiceHost' | 'kubernetesServicePort'> &
  Partial<Pick<Config, 'jwtIssuers'>>;

export interface KubernetesSetupDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** Defaults to node:fs (UTF-8). */
  readonly readFile?: LoadKubeOptions['readFile'];
  readonly statMtimeMs?: LoadKubeOptions['statMtimeMs'];
  /** Defaults to the standard mount point. */
  readonly serviceAccountDir?: string;
  readonly options?: KubernetesAuthnOptions;
  /** Receives what to call at shutdown (closing the API client's keep-alive connections). */
  readonly onClose?: (close: () => void) => void;
}

function mtimeOf(p: string): number | undefined {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The authenticator, or undefined (logged at INFO) when there are no cluster credentials. */
export function createKubernetesAuthenticator(config: KubernetesSetupConfig, deps: KubernetesSetupDeps): KubernetesAuthenticator | undefined {
  const dir = deps.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR;
  let creds;
  try {
    creds = loadKubeCredentials({
      kubeconfig: config.kubeconfig,
      serviceAccountDir: dir,
      serviceHost: config.kubernetesServiceHost,
      servicePort: config.kubernetesServicePort,
      readFile: deps.readFile ?? ((p) => readFileSync(p, 'utf8')),
      statMtimeMs: deps.statMtimeMs ?? mtimeOf,
    });
  } catch (e) {
    throw new Error(`KUBECONFIG: ${(e as Error).message}`);
  }
  if (creds === undefined) {
    const why = config.kubernetesServiceHost === '' ? 'KUBERNETES_SERVICE_HOST is not set' : `no service-account token at ${dir}/token`;
    deps.log.info(`Kubernetes service-account tokens: off (no KUBECONFIG and not in a cluster: ${why})`);
    return undefined;
  }
  deps.log.info({ source: creds.source, server: creds.server }, 'Kubernetes service-account tokens: on (TokenReview)');
  const kube = new KubeClient(creds, { userAgent: 'oidc-judge' });
  deps.onClose?.(() => kube.close());
  const foreignIssuers = issuerNames(config.jwtIssuers ?? []);
  return new KubernetesAuthenticator(config, { clock: deps.clock, log: deps.log, kube }, { foreignIssuers, ...deps.options });
}
