// A hop between the server and the emulator's token endpoint, for faults the emulator cannot play
// itself: an answer lost after Smartcar acted on it (the refresh token was used and the pair
// rotated, but the answer never arrived), or a refresh stopped at a chosen step so a test can kill
// the server there.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * Where a held refresh stops: sent but not seen by Smartcar; answered by Smartcar but not yet back;
 * or just handed back to the server (its commit may or may not follow).
 */
type RefreshStep = 'sent' | 'answered' | 'delivered';

export interface TokenProxy {
  origin: string;
  /** Refresh requests the server sent. */
  requested(): number;
  /** Refresh answers that reached the server. */
  delivered(): number;
  /** Refreshes the emulator carried out. */
  rotated(): number;
  /** The most refresh requests the proxy held open at once. */
  mostAtOnce(): number;
  /** The next `count` refresh answers are lost after the emulator has rotated the pair. */
  dropAnswers(count: number): void;
  /** Stops the next refresh at `step`; resolves once it got there. A held request is never answered. */
  holdAt(step: RefreshStep): Promise<void>;
  close(): Promise<void>;
}

/** Headers about the connection itself, which the proxy does not pass on. */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
]);

export async function startTokenProxy(target: string): Promise<TokenProxy> {
  let requested = 0;
  let delivered = 0;
  let rotated = 0;
  let toDrop = 0;
  let open = 0;
  let mostAtOnce = 0;
  let hold: { step: RefreshStep; reached: () => void } | undefined;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const isRefresh = new URLSearchParams(body.toString()).get('grant_type') === 'refresh_token';
    if (isRefresh) {
      requested += 1;
      open += 1;
      mostAtOnce = Math.max(mostAtOnce, open);
      response.on('close', () => (open -= 1));
    }
    const held = isRefresh ? hold : undefined;
    if (held) hold = undefined;
    if (held?.step === 'sent') {
      held.reached(); // never forwarded: Smartcar did not see it
      return;
    }

    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers.set(name, value);
    }
    const upstream = await fetch(target + (request.url ?? '/'), {
      method: request.method ?? 'POST',
      headers,
      body,
    });
    const answer = Buffer.from(await upstream.arrayBuffer());
    if (isRefresh && upstream.ok) rotated += 1;
    if (held?.step === 'answered') {
      held.reached(); // Smartcar rotated; the answer stays here
      return;
    }
    if (isRefresh && toDrop > 0) {
      toDrop -= 1;
      request.socket.destroy();
      return;
    }
    if (isRefresh) delivered += 1;
    const passed = [...upstream.headers].filter(([name]) => !HOP_HEADERS.has(name));
    response.writeHead(upstream.status, Object.fromEntries(passed));
    response.end(answer, () => held?.reached());
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => request.socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');

  return {
    origin: `http://127.0.0.1:${address.port}`,
    requested: () => requested,
    delivered: () => delivered,
    rotated: () => rotated,
    mostAtOnce: () => mostAtOnce,
    dropAnswers: (count) => {
      toDrop = count;
    },
    holdAt: (step) =>
      new Promise<void>((resolve) => {
        hold = { step, reached: resolve };
      }),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
