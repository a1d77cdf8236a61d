import type { z } from 'zod';
import { badRequest } from './errors';

/** Parses untrusted input, or answers 400 naming the first field that is wrong. */
export function parse<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const field = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw badRequest(`Invalid request. ${field}${issue?.message ?? 'malformed input'}.`);
}
