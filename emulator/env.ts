// Emulator options from the environment, for `npm run emulator` and `npm start`: documented
// behaviour (realistic latency, Smartcar's limits) unless told otherwise.
import type { EmulatorOptions } from './index';
import { LATENCY_PROFILES, type LatencyProfile } from './latency';

function number(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a number of 0 or more.`);
  return parsed;
}

/** EMULATOR_LATENCY (`realistic` unless `instant`), EMULATOR_LATENCY_SCALE, EMULATOR_LATENCY_SEED, EMULATOR_VEHICLE_LATENCY_MS. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): EmulatorOptions {
  const profile = env.EMULATOR_LATENCY ?? 'realistic';
  if (!LATENCY_PROFILES.includes(profile as LatencyProfile)) {
    throw new Error(`EMULATOR_LATENCY must be one of ${LATENCY_PROFILES.join(', ')}.`);
  }
  const options: EmulatorOptions = { latency: profile as LatencyProfile };
  const scale = number(env, 'EMULATOR_LATENCY_SCALE');
  const seed = number(env, 'EMULATOR_LATENCY_SEED');
  const vehicleLatencyMs = number(env, 'EMULATOR_VEHICLE_LATENCY_MS');
  if (scale !== undefined) options.latencyScale = scale;
  if (seed !== undefined) options.latencySeed = seed;
  if (vehicleLatencyMs !== undefined) options.vehicleLatencyMs = vehicleLatencyMs;
  return options;
}
