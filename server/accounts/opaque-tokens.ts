// Opaque random tokens handed to the extension (sessions) and to Connect (state). Only their
// SHA-256 is stored, so a copy of the database cannot be replayed against the API.
import { createHash, randomBytes } from 'node:crypto';

export const newOpaqueToken = () => randomBytes(32).toString('base64url');

export const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
