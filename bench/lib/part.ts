// Owns the shape of a bench part and the small helpers every part shares: options, tables, JSON results, medians.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface BenchPart {
  name: string;
  description: string;
  /** `args` are what follows the part name, e.g. ["--n=5000"]. */
  run(args: string[]): Promise<void>;
}

/** `--key=value` flags into a map; numbers read with `num`. */
export function options(args: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of args) {
    const match = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (match) m.set(match[1]!, match[2] ?? 'true');
  }
  return m;
}

export function num(opts: Map<string, string>, key: string, fallback: number): number {
  const v = opts.get(key);
  if (v === undefined) return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n)) throw new Error(`--${key} expects a number, got ${v}`);
  return n;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function table(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const cell = (v: string | number | undefined) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : (v ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => '| ' + vals.map((v, i) => v.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(line(cols));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
}

export const benchDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export function machine() {
  return {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
}

/** CPU model, Node version and the load average now: bench figures on a shared machine mean little without them. */
export function machineLine(): string {
  const m = machine();
  return `${m.cpus} x ${m.cpu}, Node ${m.node}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}

/** Above this one-minute load average at the start, other work shares the cores and every rate here moves with it. */
export const QUIET_LOAD = 0.5;

/** The machine line every bench run starts with, and a warning on stderr when the machine is not quiet. */
let loadAtStart: number[] | null = null;

export function announceMachine(): void {
  console.log(`machine: ${machineLine()}`);
  loadAtStart = os.loadavg();
  const load = loadAtStart[0]!;
  if (load > QUIET_LOAD)
    console.error(
      `warning: load average ${load.toFixed(2)} at start (> ${QUIET_LOAD}): other work shares the ${os.cpus().length} cores, so rates and ratios measured now are not this code's`,
    );
}

/** Writes bench/results/<part>-<time>.json and bench/results/<part>-latest.json (or under BENCH_RESULTS_DIR); returns the path. */
export function writeResult(part: string, data: unknown): string {
  // BENCH_RESULTS_DIR lets the bench's own tests write elsewhere, so a tiny test run never replaces real figures.
  const dir = process.env.BENCH_RESULTS_DIR || path.join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const body = JSON.stringify({ part, at: new Date().toISOString(), machine: machine(), loadAverageAtStart: loadAtStart, ...(data as object) }, null, 2) + '\n';
  const file = path.join(dir, `${part}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, body);
  writeFileSync(path.join(dir, `${part}-latest.json`), body);
  return file;
}
