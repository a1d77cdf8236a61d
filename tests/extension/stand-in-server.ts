// A real HTTP server that answers what a test scripts, where our own server cannot be made to: a
// proxy's answers in front of it, the options page's health check, the screenshots' fixed data.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Route = (request: RecordedRequest) => Reply;

export interface StandInServer {
  url: string;
  requests: RecordedRequest[];
  /** Answers `METHOD /path` with the route; anything unrouted gets the server's 404 error body. */
  route(key: string, route: Route): void;
  close(): Promise<void>;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text ? JSON.parse(text) : undefined;
}

function writeReply(response: ServerResponse, { status = 200, body, headers }: Reply): void {
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** Any free port unless one is given (the e2e build has its server's port baked in). */
export async function startStandInServer(listenPort = 0): Promise<StandInServer> {
  const routes = new Map<string, Route>();
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    void readJson(request).then((body) => {
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        authorization: request.headers.authorization,
        body,
      };
      requests.push(recorded);
      const route = routes.get(`${recorded.method} ${recorded.path}`);
      writeReply(
        response,
        route?.(recorded) ?? { status: 404, body: { error: { code: 'not_found', message: 'No route' } } },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    route: (key, route) => routes.set(key, route),
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}
