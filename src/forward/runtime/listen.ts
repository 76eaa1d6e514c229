/**
 * Listen addresses of the forwarder runtime: `host:port`, `[v6]:port`, `:port` (every interface)
 * or `unix:/path/to.sock`. For a unix socket: a stale socket file left by a crashed process is
 * removed (one that still accepts connections is "in use"; a file that is not a socket is never
 * touched), the socket is chmod'ed to the configured mode after listening, and removed on close.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { connect, type AddressInfo, type Server } from 'node:net';

export type ListenAddress = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

/** Parses a listen address; a string is the problem. */
export function parseListenAddress(s: string): ListenAddress | string {
  if (s.startsWith('unix:')) {
    const path = s.slice(5);
    return path.startsWith('/') ? { kind: 'unix', path } : 'a unix socket path must be absolute (unix:/path/to.sock)';
  }
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(s.trim());
  if (m === null) return 'must be host:port, :port, [ipv6]:port or unix:/path';
  const port = Number(m[3]);
  if (port > 65535) return 'port must be at most 65535';
  return { kind: 'tcp', host: m[1] ?? m[2] ?? '', port };
}

export const DEFAULT_SOCKET_MODE = 0o755;

function connects(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Makes `path` free for a new socket: nothing there, or a stale socket (removed). Throws otherwise. */
export async function clearStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; not removing it`);
  if (await connects(path)) throw new Error(`${path} is in use by a running process`);
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

/** Removes the socket file if it is still there (a socket). */
export async function removeSocket(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isSocket()) await unlink(path);
  } catch {
    // already gone
  }
}

/** Listens on `addr`; resolves with the bound TCP port (0 for a unix socket). */
export async function listenAt(server: Server, addr: ListenAddress, socketMode = DEFAULT_SOCKET_MODE): Promise<number> {
  if (addr.kind === 'unix') await clearStaleSocket(addr.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (addr.kind === 'unix') server.listen(addr.path, done);
    else server.listen(addr.host === '' ? { port: addr.port } : { host: addr.host, port: addr.port }, done);
  });
  if (addr.kind === 'unix') {
    await chmod(addr.path, socketMode);
    return 0;
  }
  return (server.address() as AddressInfo).port;
}

/** `host:port` / `unix:/path` for messages. */
export function describeAddress(addr: ListenAddress, port?: number): string {
  if (addr.kind === 'unix') return `unix:${addr.path}`;
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  return `${host}:${port ?? addr.port}`;
}
