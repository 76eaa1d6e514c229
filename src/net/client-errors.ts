/**
 * The answer to a request Node's HTTP parser refuses — a head over the size limit (431), a head or
 * request past its timeout (408), a malformed one (400) — closed so that the client can read it.
 * Node's own handling writes the answer and destroys the socket at once: when the client is still
 * sending (a 70 KiB head against a 16 KiB limit), the bytes left unread make the kernel reset the
 * connection, and the client may see the reset instead of the answer (Node 24's HTTP client does;
 * curl shows the 431, then "connection reset"). Here the answer goes out with a FIN, the rest of
 * the request is read and dropped, and the socket is destroyed when the client closes its side or
 * `lingerMs` passes (a "lingering close", as nginx calls it).
 */
import type { Server } from 'node:http';
import type { Server as TlsServer } from 'node:https';
import type { Duplex } from 'node:stream';

/** How long a refused client may go on sending before its connection is destroyed. */
export const LINGER_MS = 1000;

const STATUS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** Takes over `server`'s `clientError` handling (Node's then stands aside). */
export function answerClientErrors(server: Server | TlsServer, lingerMs = LINGER_MS): void {
  // Node's parser stays in its error state: every later chunk of the connection reports it again.
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (answered.has(socket)) return;
    answered.add(socket);
    // As Node does: no answer once a response has begun on this connection (it would corrupt it).
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    socket.end(`HTTP/1.1 ${STATUS[err.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.once('end', () => socket.destroy());
    socket.resume();
  });
}
