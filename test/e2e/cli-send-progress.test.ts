// `paperboy send` from the real CLI with stderr a pipe (a log file, CI, systemd): progress as plain lines on stderr,
// a summary that says why messages wait, and JSON logs; readable log lines when asked for (or in a terminal).
import { describe, it, expect } from 'vitest';
import { openStore } from '../../src/db/open.js';
import { insertPapers, insertSubscribers } from '../helpers/delivery-fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/free-port.js';
import { startSmtpReceiver } from '../helpers/smtp-receiver.js';
import { runCliAsync } from '../helpers/cli.js';
import { prettyLogs } from '../../src/log.js';

function seed(dir: string, n: number) {
  const store = openStore(`${dir}/paperboy.db`);
  insertPapers(store, 10);
  insertSubscribers(store, n, { digest_size: 2 });
  store.close();
}

const base = (dir: string, port: number) => ({ DATA_DIR: dir, FETCH_ENABLED: 'false', SMTP_URL: `smtp://127.0.0.1:${port}` });

describe('paperboy send, stderr not a terminal', () => {
  it('prints "sent N/TOTAL" progress lines on stderr, the summary alone on stdout', async () => {
    const dir = tempDir();
    seed(dir, 400);
    const server = await startSmtpReceiver();
    // A server that takes 5 ms a reply: the send lasts past the first progress poll (200 ms) on any machine; with
    // MJML off the sending thread, 400 instant replies could all be in before it.
    server.delayMs = 5;
    try {
      const r = await runCliAsync(['send', '--force'], { ...base(dir, server.port), LOG_LEVEL: 'warn' });
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stderr.split('\n').filter((l) => /^sent \d+\/400 /.test(l));
      expect(lines.length, r.stderr).toBeGreaterThanOrEqual(1);
      expect(lines[0]).toMatch(/^sent \d+\/400 \(delivered \d+, failed 0, \d+\/s\)$/);
      expect(r.stdout).toMatch(/sent 400, failed 0, bounced 0, unknown 0/);
      expect(r.stdout).not.toMatch(/^sent \d+\/400/m);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('says why messages wait: the mail server refused the connection (ECONNREFUSED)', async () => {
    const dir = tempDir();
    seed(dir, 20);
    const port = await freePort(); // nothing listens there
    const r = await runCliAsync(['send', '--force'], {
      ...base(dir, port),
      LOG_LEVEL: 'warn',
      SEND_OUTAGE_MAX_SECONDS: '1',
      SEND_PROBE_INITIAL_MS: '100',
      SEND_PROBE_MAX_MS: '200',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/20 waiting for a retry/);
    expect(r.stdout).toMatch(/waiting because: .*ECONNREFUSED.* \(the last try of \d+ messages?\)/);
  }, 60_000);

  it('logs JSON lines when stderr is not a terminal, readable lines with LOG_FORMAT=pretty', async () => {
    const dir = tempDir();
    const json = await runCliAsync(['send', '--force'], { DATA_DIR: dir, FETCH_ENABLED: 'false', LOG_LEVEL: 'info' });
    expect(json.code, json.stderr).toBe(0);
    const logLines = json.stderr.split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    for (const l of logLines) expect(() => JSON.parse(l)).not.toThrow();

    const dir2 = tempDir();
    const readable = await runCliAsync(['send', '--force'], { DATA_DIR: dir2, FETCH_ENABLED: 'false', LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    expect(readable.code, readable.stderr).toBe(0);
    expect(readable.stderr).toMatch(/^\[\d\d:\d\d:\d\d(\.\d+)?\] INFO: /m);
    expect(readable.stderr.split('\n').filter((l) => l.startsWith('{"level"'))).toEqual([]);
    // auto: readable in a terminal, JSON otherwise.
    expect(prettyLogs('auto', true)).toBe(true);
    expect(prettyLogs('auto', false)).toBe(false);
    expect(prettyLogs('json', true)).toBe(false);
  }, 60_000);
});
