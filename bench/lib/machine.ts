// What the figures were measured on, for the head of bench/results.md.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { findChromium } from '../../tests/e2e/paths';

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  node: string;
  chromium: string;
  date: string;
  /** Other work on the machine skews every timing; the 1-minute load average at the start says how much. */
  loadAverage: string;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GB`,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    chromium: chromiumVersion(),
    date: new Date().toISOString(),
    loadAverage: os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(', '),
  };
}

function chromiumVersion(): string {
  try {
    // Debian's wrapper script prints a warning on stderr; the version is on stdout.
    return execFileSync(findChromium(), ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

/** The lines at the head of a results file that say what its figures were measured on. */
export function machineLines(machine: Machine): string[] {
  return [
    `- Date: ${machine.date}`,
    `- CPU: ${machine.cpu}, ${machine.cores} cores; memory ${machine.memory}`,
    `- OS: ${machine.os}`,
    `- Node ${machine.node}; ${machine.chromium}`,
    `- Load average at start (1, 5, 15 min): ${machine.loadAverage}`,
  ];
}
