// `npm start` on embedded defaults: seeds ingested, web app up, a subscription lands in the outbox as an .eml,
// and subscribing by email to the inbound listener works — the whole loop with no mail server.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { simpleParser } from 'mailparser';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/tmp.js';

async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm start on a fresh data directory', () => {
  const dir = tempDir();
  let child: ChildProcess;
  let out = '';
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('starts, prints the URL and admin token, serves pages and delivers confirmations into the outbox', async () => {
    const port = await freePort();
    const inbound = await freePort();
    // The live source on its defaults, except the host: a closed local port stands for "no network", so this test
    // never reaches huggingface.co, and shows what a fresh machine without internet gets.
    const closed = await freePort();
    child = spawn('node_modules/.bin/tsx', ['src/main.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DATA_DIR: dir,
        PORT: String(port),
        INBOUND_SMTP_PORT: String(inbound),
        LOG_LEVEL: 'warn',
        DAILY_PAPERS_URL: `http://127.0.0.1:${closed}`,
      },
    });
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    await waitFor(() => (out.includes('stop with Ctrl-C') ? true : undefined), 'the start banner');
    expect(out).toContain(`paperboy is running at http://localhost:${port}`);
    const token = /token: (\S+)\)/.exec(out)?.[1];
    expect(token).toBe(readFileSync(join(dir, 'admin-token'), 'utf8').trim());

    const home = await fetch(`http://127.0.0.1:${port}/`);
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain('<form');

    const res = await fetch(`http://127.0.0.1:${port}/subscribe`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=reader%40example.org&frequency=daily&kind=trending',
    });
    expect(res.status).toBe(303);
    const outbox = join(dir, 'outbox');
    const file = await waitFor(() => (existsSync(outbox) ? readdirSync(outbox) : []).find((f) => f.endsWith('.eml')), 'the confirmation .eml');
    const mail = await simpleParser(readFileSync(join(outbox, file)));
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe('reader@example.org');
    expect(mail.text).toMatch(new RegExp(`http://localhost:${port}/confirm/\\S+`));

    // Subscribing by email: the listener takes it, and a second confirmation lands in the outbox.
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: inbound, secure: false, ignoreTLS: true });
    await t.sendMail({ from: 'writer@example.org', to: 'subscribe@localhost', subject: 'subscribe', text: 'please' });
    t.close();
    const second = await waitFor(async () => {
      for (const f of readdirSync(outbox).filter((f) => f.endsWith('.eml'))) {
        const m = await simpleParser(readFileSync(join(outbox, f)));
        if (m.to && 'text' in m.to && m.to.text === 'writer@example.org') return m;
      }
      return undefined;
    }, 'the confirmation for the email subscriber');
    expect(second.subject).toBeTruthy();

    // The fetch at start gave up in the background (after its retries) and said so once; the service kept serving.
    await waitFor(() => (out.includes('daily-papers: source unreachable') ? true : undefined), 'the unreachable-source warning');
    expect(out.split('daily-papers: source unreachable').length - 1).toBe(1);
    expect(out).toContain(`unreachable (connect ECONNREFUSED 127.0.0.1:${closed})`);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
  });
});
