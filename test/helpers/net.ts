import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The kernel's ephemeral range, from which it gives every outgoing connection its local port. A
 * port handed out from there (by listening on port 0, then closing) can be taken by any client
 * socket — Chromium's, a Redis client's, ours — before the server that wanted it listens: the
 * test then fails with EADDRINUSE (seen in a busy CI run). So `freePort` picks below that range,
 * where only listeners can take a port.
 */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && Number.isInteger(low) && low > 12_000) return low;
  } catch {
    /* not Linux: the IANA default */
  }
  return 49_152;
}

const HIGH = ephemeralStart(); // exclusive
const LOW = HIGH - 10_000;

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A TCP port free on 127.0.0.1 right now, outside the ephemeral range (for servers that cannot
 * listen on port 0 themselves: nginx, redis-server, a redirect URI the provider must know first).
 * Random, so that test files running at the same time rarely pick the same one; checked by binding.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await listenable(port)) return port;
  }
  throw new Error(`no free port between ${LOW} and ${HIGH}`);
}
