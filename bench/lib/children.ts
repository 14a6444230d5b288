// Owns the bench's child processes: none outlives the bench, however it ends (done, an error, SIGINT, SIGTERM, SIGHUP).
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let installed = false;

function killAll(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  live.clear();
}

/**
 * Makes SIGINT, SIGTERM and SIGHUP end the process through its exit path, where every tracked child (and every
 * `exit` handler of the parts: busy and crash kill their process groups there) is stopped. Without a handler a
 * signal ends node at once, before 'exit' fires, and the children are left running.
 */
export function endOnSignals(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)
    process.once(signal, () => process.exit(code));
}

/** Tracks `child` until it exits, so it is killed if the bench ends first; returns it. */
export function stopWithBench<C extends ChildProcess>(child: C): C {
  endOnSignals();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
