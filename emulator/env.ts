// Emulator options from the environment, for `npm run emulator`, `npm start` and `npm run dev`:
// documented behaviour (realistic latency, Smartcar's limits) and state kept across restarts beside
// the server's data, unless told otherwise.
import path from 'node:path';
import type { EmulatorOptions } from './index';
import { LATENCY_PROFILES, type LatencyProfile } from './latency';

function number(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a number of 0 or more.`);
  return parsed;
}

/**
 * The state file: EMULATOR_STATE_FILE, `none` for memory only, by default `emulator-state.json` in
 * the server's DATA_DIR (./data unless set, as server/config.ts reads it).
 */
function stateFile(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.EMULATOR_STATE_FILE || path.join(env.DATA_DIR || 'data', 'emulator-state.json');
  return file === 'none' ? undefined : path.resolve(file);
}

/**
 * EMULATOR_LATENCY (`realistic` unless `instant`), EMULATOR_LATENCY_SCALE, EMULATOR_LATENCY_SEED,
 * EMULATOR_VEHICLE_LATENCY_MS, and the state file (EMULATOR_STATE_FILE, DATA_DIR).
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv): EmulatorOptions {
  const profile = env.EMULATOR_LATENCY ?? 'realistic';
  if (!LATENCY_PROFILES.includes(profile as LatencyProfile)) {
    throw new Error(`EMULATOR_LATENCY must be one of ${LATENCY_PROFILES.join(', ')}.`);
  }
  const options: EmulatorOptions = { latency: profile as LatencyProfile };
  const file = stateFile(env);
  if (file !== undefined) options.stateFile = file;
  const scale = number(env, 'EMULATOR_LATENCY_SCALE');
  const seed = number(env, 'EMULATOR_LATENCY_SEED');
  const vehicleLatencyMs = number(env, 'EMULATOR_VEHICLE_LATENCY_MS');
  if (scale !== undefined) options.latencyScale = scale;
  if (seed !== undefined) options.latencySeed = seed;
  if (vehicleLatencyMs !== undefined) options.vehicleLatencyMs = vehicleLatencyMs;
  return options;
}
