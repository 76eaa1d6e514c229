import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Listens on `host:port` (an empty host means every interface) and resolves with the bound port (useful with port 0). */
export function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(host === '' ? { port } : { host, port }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
