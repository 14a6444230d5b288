// Tests the pipelining messenger against Postfix's smtp-sink: pipelined transactions, bytes as Postfix receives them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { PipeliningMessenger } from '../src/mail/pipelining-messenger.js';
import { dotStuff } from '../src/mail/smtp-wire.js';

const SINK = ['/usr/sbin/smtp-sink', '/usr/lib/postfix/smtp-sink'].find((p) => existsSync(p));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function listening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('smtp-sink did not start');
}

describe('PipeliningMessenger with Postfix smtp-sink', () => {
  let sink: ChildProcess;
  let port: number;
  let dir: string;
  let out = '';

  beforeAll(async () => {
    if (!SINK) throw new Error('smtp-sink not found: install Postfix tools (scripts/test.sh does: apt-get install postfix)');
    dir = mkdtempSync(path.join(tmpdir(), 'paperboy-sink-'));
    chmodSync(dir, 0o777);
    port = await freePort();
    const asRoot = process.getuid?.() === 0;
    // -d: one file per transaction; -c: counters on stdout.
    sink = spawn(SINK, ['-c', '-d', `${dir}/%M.`, ...(asRoot ? ['-u', 'nobody'] : []), `127.0.0.1:${port}`, '64'], { stdio: ['ignore', 'pipe', 'pipe'] });
    sink.stdout!.on('data', (c: Buffer) => (out += c.toString('latin1')));
    sink.stderr!.on('data', (c: Buffer) => (out += c.toString('latin1')));
    await listening(port);
  });

  afterAll(() => {
    sink?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers pipelined messages over two connections, dot-stuffed once, bytes intact', async () => {
    const messenger = new PipeliningMessenger({ url: `smtp://127.0.0.1:${port}?starttls=never`, poolSize: 2, timeoutMs: 5000 });
    const body = (i: number) =>
      `From: a@example.org\r\nTo: r${i}@example.org\r\nSubject: sink ${i}\r\nMessage-ID: <s${i}@example.org>\r\n\r\n.dot line ${i}\r\n..\r\nplain\r\n.`;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        messenger.sendRaw({
          envelope: { from: 'a@example.org', to: [`r${i}@example.org`] },
          raw: dotStuff(body(i)),
          messageId: `<s${i}@example.org>`,
          dotStuffed: true,
        }),
      ),
    );
    await messenger.close();
    expect(results.every((r) => r.response.startsWith('250'))).toBe(true);
    for (let i = 0; i < 100 && !/mesg=40\b/.test(out); i++) await new Promise((r) => setTimeout(r, 20));
    expect(out).toMatch(/mesg=40\b/);
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files).toHaveLength(40);
    const dumped = readFileSync(path.join(files[0]!.parentPath, files[0]!.name));
    const mail = await simpleParser(dumped);
    const i = Number(/sink (\d+)/.exec(mail.subject ?? '')![1]);
    expect(mail.messageId).toBe(`<s${i}@example.org>`);
    expect(mail.text?.trimEnd()).toBe(`.dot line ${i}\n..\nplain\n.`);
  });
});
