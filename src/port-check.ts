// Owns checking, before anything starts, that the ports paperboy listens on are free, and saying which setting to change.
import { createServer } from 'node:net';

export interface Listener {
  /** The setting that chooses the port, named in the message (PORT, INBOUND_SMTP_PORT). */
  setting: string;
  host: string;
  port: number;
}

/** A port paperboy cannot listen on: its message is the one line a person needs, so it is printed without a stack. */
export class PortUnavailableError extends Error {
  constructor(
    readonly listener: Listener,
    readonly reason: 'in-use' | 'not-allowed' | 'same-port',
    other?: string,
  ) {
    const { setting, host, port } = listener;
    super(
      reason === 'same-port'
        ? `${other} and ${setting} are both ${port}: set one of them to another port`
        : reason === 'in-use'
          ? `port ${port} on ${host} is in use (${setting}): set ${setting} to a free port, or stop what uses it`
          : `port ${port} on ${host} may not be used by this user (${setting}): set ${setting} to a port above 1023, or run with the rights for it`,
    );
    this.name = 'PortUnavailableError';
  }
}

/** The error a failed listen() becomes: EADDRINUSE and EACCES say which setting to change; anything else as it was. */
export function portError(err: unknown, listener: Listener): unknown {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'EADDRINUSE') return new PortUnavailableError(listener, 'in-use');
  if (code === 'EACCES') return new PortUnavailableError(listener, 'not-allowed');
  return err;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);
/** Whether two listens on one port would collide: the same host, or either on every address. */
function sameAddress(a: string, b: string): boolean {
  return a === b || WILDCARD.has(a) || WILDCARD.has(b);
}

function probe(l: Listener): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (err) => reject(portError(err, l)));
    s.listen({ port: l.port, host: l.host, exclusive: true }, () => s.close(() => resolve()));
  });
}

/**
 * Each listener's port is bound and let go at once, so that a taken port is known before the web app, the mail
 * listener or the scheduler start (the web app used to come up, then die with a raw EADDRINUSE from the second).
 * Port 0 (any free port) needs no check. A port taken between this and the real listen is still reported the same
 * way, through portError.
 */
export async function checkPortsFree(listeners: Listener[]): Promise<void> {
  const fixed = listeners.filter((l) => l.port !== 0);
  for (let i = 0; i < fixed.length; i++) {
    const twin = fixed.slice(0, i).find((o) => o.port === fixed[i]!.port && sameAddress(o.host, fixed[i]!.host));
    if (twin) throw new PortUnavailableError(fixed[i]!, 'same-port', twin.setting);
  }
  for (const l of fixed) await probe(l);
}
