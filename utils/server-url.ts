// The server address the options page accepts, and the host permission it needs.

/**
 * The origin of a usable server address, or null. HTTPS only, except on this machine: the session
 * token travels with every request.
 */
export function parseServerUrl(input: string): string | null {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return null;
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) return null;
  return url.origin;
}

/** The match pattern for a server origin. Match patterns cannot name a port, so it covers every port. */
export function hostPermissionFor(origin: string): string {
  const { protocol, hostname } = new URL(origin);
  return `${protocol}//${hostname}/*`;
}

/** What wxt.config.ts lists as optional_host_permissions: everything parseServerUrl accepts. */
export const SERVER_HOST_PATTERNS = ['https://*/*', 'http://localhost/*', 'http://127.0.0.1/*'];
