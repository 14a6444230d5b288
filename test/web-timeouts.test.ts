// HTTP timeouts against a listening server: a client that trickles a request in is cut off, an idle one too.
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { loadConfig } from '../src/config.js';
import { startHarness, type Harness } from './helpers/web-harness.js';

let harness: Harness | null = null;
afterEach(async () => {
  await harness?.close();
  harness = null;
});

/** Opens a raw socket, runs `drive` on it, resolves with what the server sent and when it closed the connection. */
function slowClient(url: string, drive: (write: (s: string) => void) => () => void): Promise<{ closedAfterMs: number; received: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    let stop = () => {};
    const guard = setTimeout(() => {
      stop();
      socket.destroy();
      reject(new Error('the server kept the slow connection open for 15 s'));
    }, 15_000);
    socket.setEncoding('utf8');
    socket.on('connect', () => (stop = drive((s) => socket.write(s))));
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      stop();
      resolve({ closedAfterMs: Date.now() - started, received });
    });
  });
}

describe('HTTP timeouts', () => {
  it('a POST /subscribe announcing 60000 bytes and sending one every 300 ms is cut off after HTTP_REQUEST_TIMEOUT_MS', async () => {
    // The idle timeout is long: only the request timeout can end a client that keeps sending.
    harness = await startHarness({ HTTP_REQUEST_TIMEOUT_MS: '1500', HTTP_CONNECTION_TIMEOUT_MS: '60000' });
    const result = await slowClient(harness.url, (write) => {
      write('POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n');
      const timer = setInterval(() => write('a'), 300);
      return () => clearInterval(timer);
    });
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(1400);
    expect(result.closedAfterMs).toBeLessThan(6000);
    // Node answers 408 before closing when it can.
    if (result.received) expect(result.received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('headers that trickle in are cut off too', async () => {
    harness = await startHarness({ HTTP_REQUEST_TIMEOUT_MS: '1500', HTTP_CONNECTION_TIMEOUT_MS: '60000' });
    const result = await slowClient(harness.url, (write) => {
      write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const timer = setInterval(() => write('X-a: b\r\n'), 300);
      return () => clearInterval(timer);
    });
    expect(result.closedAfterMs).toBeLessThan(6000);
  });

  it('a connection that sends nothing is closed after HTTP_CONNECTION_TIMEOUT_MS', async () => {
    harness = await startHarness({ HTTP_REQUEST_TIMEOUT_MS: '60000', HTTP_CONNECTION_TIMEOUT_MS: '1000' });
    const result = await slowClient(harness.url, () => () => {});
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(result.closedAfterMs).toBeLessThan(6000);
  });

  it('defaults: 30 s for a request, 60 s idle', () => {
    const config = loadConfig({});
    expect(config.HTTP_REQUEST_TIMEOUT_MS).toBe(30_000);
    expect(config.HTTP_CONNECTION_TIMEOUT_MS).toBe(60_000);
  });
});
