// JSON request bodies as the official SDK sends them.
import type { FastifyInstance } from 'fastify';
import { SmartcarErrorReply } from './smartcar-errors';

/**
 * The SDK sends `Content-Type: application/json` with an empty body on DELETE and on POSTs without
 * a body (subscribe); that is not an error. Malformed JSON is a VALIDATION error.
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch {
      done(new SmartcarErrorReply('VALIDATION'), undefined);
    }
  });
}
