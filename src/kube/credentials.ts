/**
 * Credentials for calling a Kubernetes API server: from a kubeconfig file (its current context)
 * or from the in-cluster service-account files, as client-go's `InClusterConfig` finds them
 * (`KUBERNETES_SERVICE_HOST`/`_PORT` plus `<dir>/token`, optional `<dir>/ca.crt`). Bearer tokens
 * read from files are re-read when the file changes, because projected tokens rotate on disk.
 * Reads nothing by itself: the caller passes a file reader (and, optionally, a stat).
 */
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface KubeCredentials {
  readonly source: 'in-cluster' | 'kubeconfig';
  /** API server base URL, e.g. `https://10.0.0.1:443` (no trailing slash). */
  readonly server: string;
  readonly ca?: string; // PEM
  readonly cert?: string; // client certificate PEM (kubeconfig client-certificate(-data))
  readonly key?: string; // client key PEM
  readonly insecureSkipTlsVerify?: boolean;
  /**
   * `Bearer <token>` with the token re-read from its file when the file changed (projected tokens
   * rotate), or undefined (client-cert auth). `reread`: read the file now, whatever its mtime
   * (after a 401). A file that cannot be read keeps the last token read.
   */
  authorization(reread?: boolean): string | undefined;
}

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadKubeOptions {
  kubeconfig?: string;
  serviceAccountDir?: string /* default /var/run/secrets/kubernetes.io/serviceaccount */;
  serviceHost?: string;
  servicePort?: string /* KUBERNETES_SERVICE_HOST/PORT values, passed in by the caller */;
  readFile: (p: string) => string;
  /** mtime of a file (undefined when unknown); without it, token files are re-read on every call. */
  statMtimeMs?: (p: string) => number | undefined;
}

/**
 * kubeconfig (a file or a `:`-separated list; current-context; server, certificate-authority(-data), token, tokenFile,
 * client-certificate(-data), client-key(-data), insecure-skip-tls-verify) if given, else
 * in-cluster files; undefined when neither exists. Throws an Error naming the file and what is
 * wrong for a broken kubeconfig.
 */
export function loadKubeCredentials(o: LoadKubeOptions): KubeCredentials | undefined {
  if (o.kubeconfig !== undefined && o.kubeconfig !== '') return fromKubeconfig(o.kubeconfig, o);
  return inCluster(o);
}

/** `https://host:port`, bracketing IPv6 literals (as `net.JoinHostPort`). */
export function serviceUrl(host: string, port: string): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `https://${h}:${port}`;
}

function inCluster(o: LoadKubeOptions): KubeCredentials | undefined {
  const host = o.serviceHost?.trim() ?? '';
  const port = o.servicePort?.trim() ?? '';
  if (host === '' || port === '') return undefined;
  const dir = o.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR;
  const tokenPath = join(dir, 'token');
  if (tryRead(o.readFile, tokenPath) === undefined) return undefined;
  const ca = tryRead(o.readFile, join(dir, 'ca.crt'));
  return fileCredentials({ source: 'in-cluster', server: serviceUrl(host, port), tokenPath, ...(ca !== undefined ? { ca } : {}) }, o);
}

export interface FileCredentialsSpec {
  readonly source: KubeCredentials['source'];
  readonly server: string;
  /** Token file, re-read when it changes. */
  readonly tokenPath?: string;
  /** A fixed token (kubeconfig `token`). */
  readonly token?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecureSkipTlsVerify?: boolean;
}

/** Credentials over explicit parts (also for callers with their own file layout, e.g. the metadata gateway). */
export function fileCredentials(spec: FileCredentialsSpec, io: Pick<LoadKubeOptions, 'readFile' | 'statMtimeMs'>): KubeCredentials {
  const server = spec.server.replace(/\/+$/, '');
  let token = spec.token;
  let seenMtime: number | undefined;
  const read = (path: string, force: boolean): void => {
    const mtime = io.statMtimeMs?.(path);
    if (!force && token !== undefined && mtime !== undefined && mtime === seenMtime) return;
    const t = tryRead(io.readFile, path)?.trim();
    if (t !== undefined && t !== '') {
      token = t;
      seenMtime = mtime;
    }
  };
  return {
    source: spec.source,
    server,
    ...(spec.ca !== undefined ? { ca: spec.ca } : {}),
    ...(spec.cert !== undefined ? { cert: spec.cert } : {}),
    ...(spec.key !== undefined ? { key: spec.key } : {}),
    ...(spec.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
    authorization(reread = false) {
      if (spec.tokenPath !== undefined) read(spec.tokenPath, reread);
      return token === undefined ? undefined : `Bearer ${token}`;
    },
  };
}

function tryRead(readFile: (p: string) => string, path: string): string | undefined {
  try {
    return readFile(path);
  } catch {
    return undefined;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One parsed kubeconfig file. */
interface KubeconfigFile {
  readonly file: string;
  readonly doc: Obj;
}

function readKubeconfig(file: string, o: LoadKubeOptions): KubeconfigFile {
  const fail = (what: string): never => {
    throw new Error(`kubeconfig ${file}: ${what}`);
  };
  let text: string;
  try {
    text = o.readFile(file);
  } catch (e) {
    return fail(`cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return fail(`not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (!isObj(doc)) return fail('not a kubeconfig (expected a mapping with clusters, users and contexts)');
  return { file, doc };
}

/**
 * One file, or a `:`-separated list merged as kubectl does: files that cannot be read are skipped
 * (one must be readable), the first `current-context` wins, and the first entry of a name wins.
 */
function fromKubeconfig(spec: string, o: LoadKubeOptions): KubeCredentials {
  const paths = spec.split(delimiter).filter((p) => p !== '');
  const files =
    paths.length === 1 ? [readKubeconfig(paths[0]!, o)] : paths.flatMap((p) => (tryRead(o.readFile, p) === undefined ? [] : [readKubeconfig(p, o)]));
  if (files.length === 0) throw new Error(`kubeconfig ${spec}: none of these files can be read`);
  const origin = new Map<Obj, string>();
  const doc: Obj = {};
  for (const f of files) {
    if (doc['current-context'] === undefined && typeof f.doc['current-context'] === 'string' && f.doc['current-context'] !== '')
      doc['current-context'] = f.doc['current-context'];
    for (const list of ['clusters', 'users', 'contexts']) {
      const items = f.doc[list];
      if (items === undefined || items === null) continue;
      if (!Array.isArray(items)) throw new Error(`kubeconfig ${f.file}: "${list}" must be a list`);
      for (const i of items) if (isObj(i)) origin.set(i, f.file);
      doc[list] = [...((doc[list] as unknown[] | undefined) ?? []), ...items];
    }
  }
  const where = files.length === 1 ? files[0]!.file : spec;
  const fail = (what: string, file = where): never => {
    throw new Error(`kubeconfig ${file}: ${what}`);
  };
  // The named entry's inner mapping, and the file it came from (relative paths resolve against it).
  const named = (list: string, name: string, inner: string): { m: Obj; file: string } => {
    const items = doc[list];
    if (!Array.isArray(items)) return fail(`no "${list}" list`);
    const found = items.find((i): i is Obj => isObj(i) && i['name'] === name);
    if (!found) return fail(`${list.replace(/s$/, '')} "${name}" not found`);
    const file = origin.get(found) ?? where;
    const v = found[inner];
    return isObj(v) ? { m: v, file } : fail(`${list.replace(/s$/, '')} "${name}" has no "${inner}" mapping`, file);
  };
  const current = doc['current-context'];
  if (typeof current !== 'string' || current === '') return fail('no current-context');
  const { m: context } = named('contexts', current, 'context');
  const clusterName = context['cluster'];
  if (typeof clusterName !== 'string' || clusterName === '') return fail(`context "${current}" names no cluster`);
  const cluster = named('clusters', clusterName, 'cluster');
  const userName = context['user'];
  const user = typeof userName === 'string' && userName !== '' ? named('users', userName, 'user') : { m: {} as Obj, file: where };

  const str = (e: { m: Obj; file: string }, k: string, what: string): string | undefined => {
    const v = e.m[k];
    if (v === undefined || v === null || v === '') return undefined;
    return typeof v === 'string' ? v : fail(`${what}: "${k}" must be a string`, e.file);
  };
  // A path relative to the directory of the kubeconfig file the entry came from.
  const pathOf = (e: { file: string }, p: string): string => (isAbsolute(p) ? p : join(dirname(resolve(e.file)), p));
  // A PEM from `<k>-data` (base64) or from the file `<k>`.
  const pem = (e: { m: Obj; file: string }, k: string, what: string): string | undefined => {
    const data = str(e, `${k}-data`, what);
    if (data !== undefined) {
      const decoded = Buffer.from(data, 'base64').toString('utf8');
      return decoded.includes('-----BEGIN') ? decoded : fail(`${what}: "${k}-data" is not base64 of a PEM`, e.file);
    }
    const path = str(e, k, what);
    if (path === undefined) return undefined;
    const full = pathOf(e, path);
    try {
      return o.readFile(full);
    } catch (err) {
      return fail(`${what}: cannot read ${k} ${full} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, e.file);
    }
  };

  const cw = `cluster "${clusterName}"`;
  const server = str(cluster, 'server', cw) ?? fail(`${cw} has no server`, cluster.file);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return fail(`${cw}: server ${JSON.stringify(server)} is not a URL`, cluster.file);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`${cw}: server must be an https (or http) URL`, cluster.file);
  const ca = pem(cluster, 'certificate-authority', cw);
  const insecure = cluster.m['insecure-skip-tls-verify'] === true;

  const uw = `user "${String(userName)}"`;
  for (const k of ['exec', 'auth-provider', 'username', 'password']) {
    if (user.m[k] !== undefined) fail(`${uw}: "${k}" is not supported; use a token, tokenFile or a client certificate`, user.file);
  }
  const cert = pem(user, 'client-certificate', uw);
  const key = pem(user, 'client-key', uw);
  if ((cert === undefined) !== (key === undefined)) fail(`${uw}: client-certificate and client-key must be given together`, user.file);
  const token = str(user, 'token', uw);
  const tokenFile = str(user, 'tokenFile', uw);
  const tokenPath = tokenFile === undefined ? undefined : pathOf(user, tokenFile);
  if (token === undefined && tokenPath !== undefined && tryRead(o.readFile, tokenPath) === undefined)
    fail(`${uw}: cannot read tokenFile ${tokenPath}`, user.file);
  return fileCredentials(
    {
      source: 'kubeconfig',
      server: url.href.replace(/\/+$/, ''),
      ...(token !== undefined ? { token } : tokenPath !== undefined ? { tokenPath } : {}),
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
      ...(insecure ? { insecureSkipTlsVerify: true } : {}),
    },
    o,
  );
}
