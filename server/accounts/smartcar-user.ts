// Whose grant a connection is, for API v3, which names the Smartcar user on every call. Connect's
// redirect carries a `user_id`, but anyone can type one into a redirect: the server keeps only the
// id Smartcar itself answers for the grant's own token, so a forged redirect never reaches another
// person's car (docs/smartcar-v3.md, "A safe binding").
import type { FastifyBaseLogger } from 'fastify';
import { ApiError } from '../http/api-errors';
import type { TokenVault } from '../vault/token-vault';

/**
 * Asks Smartcar whose grant the new connection is and stores the answer; a claim that differs is
 * told to the operator (without either id) and changes nothing. Never fails the connect: the grant
 * is stored already, and its user is asked again when a v3 call needs it.
 */
export async function proveSmartcarUser(
  vault: TokenVault,
  connectionId: string,
  claimed: string | undefined,
  log: FastifyBaseLogger,
): Promise<void> {
  try {
    const proven = await vault.smartcarUserId(connectionId);
    // Null: the grant lacks `read_user_profile`, and the connection is served through API v2.0.
    if (proven !== null && claimed !== undefined && claimed !== proven) {
      log.warn(
        { connectionId },
        "the Connect redirect named another Smartcar user than the grant's own; the grant's own is kept",
      );
    }
  } catch (error) {
    log.warn(
      { connectionId, code: error instanceof ApiError ? error.code : 'internal' },
      'could not ask Smartcar whose grant a new connection is; it is asked again when needed',
    );
  }
}
