/**
 * The address the extension reaches the server at when the server listens on `host`: a wildcard
 * address (`HOST=0.0.0.0` to accept other machines) is not one a browser can connect to.
 */
export function localServerUrl(host: string, port: number | string): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable}:${port}`;
}
