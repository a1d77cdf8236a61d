import type { z } from 'zod';
import { badRequest } from './api-errors';

/** Parses untrusted input, or answers 400 naming the first field that is wrong. */
export function parse<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    const [issue] = result.error.issues;
    const field = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw badRequest(`Invalid request. ${field}${issue?.message ?? 'malformed input'}.`);
  }
  const controlled = findControlCharacter(result.data, []);
  if (controlled) throw badRequest(`Invalid request. ${controlled}: must not contain control characters.`);
  return result.data;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * No identifier, code or address we accept has a control character, and PostgreSQL refuses a NUL
 * in text outright: refuse them all here, in every field. Answers the first field that has one.
 */
function findControlCharacter(value: unknown, path: string[]): string | undefined {
  if (typeof value === 'string') return CONTROL.test(value) ? path.join('.') || 'input' : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = findControlCharacter(item, [...path, key]);
    if (found) return found;
  }
  return undefined;
}
