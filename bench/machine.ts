import { cpus, loadavg, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  date: string;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: [number, number, number];
}

export function describeMachine(): Machine {
  const list = cpus();
  const [one, five, fifteen] = loadavg();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    loadAverage: [one ?? 0, five ?? 0, fifteen ?? 0],
  };
}
