// One DKIM signature over the same header fields, whichever SMTP client sends (issue 14): `paperboy send --force` and
// `send --test-address` run from the bin with SMTP_CLIENT=pipelining and =nodemailer against a real SMTP server, and
// every message received is checked against the public key with a verifier written from RFC 6376.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/db/open.js';
import { ingestPaths } from '../../src/corpus/ingest.js';
import { FakeClock } from '../../src/clock.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { verifyDkim } from '../mail/dkim-verify.js';
import { addSubscriber } from '../helpers/corpus.js';
import { tempDir } from '../helpers/tmp.js';

const BIN = fileURLToPath(new URL('../../bin/paperboy.js', import.meta.url));
const SEEDS = fileURLToPath(new URL('../../seeds', import.meta.url));

/** Runs the bin without blocking this process (the SMTP server answering it lives here). */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.on('exit', (status) => (clearTimeout(timer), resolve({ status, stderr }))));
}

const headOf = (raw: string) => raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');

describe('DKIM with either SMTP client', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // One line with \n escapes, as a .env holds it: the config turns it into the PEM once for both clients.
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim().replace(/\n/g, '\\n');
  const servers: SmtpReceiver[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  async function sendWith(client: 'pipelining' | 'nodemailer'): Promise<{ digest: string; test: string }> {
    const dir = tempDir();
    const store = openStore(`${dir}/paperboy.db`);
    ingestPaths(store, [SEEDS], new FakeClock(new Date()));
    addSubscriber(store, { email: 'reader@example.org', digestSize: 3 });
    store.close();
    const smtp = await startSmtpReceiver();
    servers.push(smtp);
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dir,
      FETCH_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      SMTP_URL: smtp.url,
      SMTP_CLIENT: client,
      MAIL_DOMAIN: 'paperboy.test',
      MAIL_FROM: 'paperboy <digest@paperboy.test>',
      DKIM_DOMAIN: 'paperboy.test',
      DKIM_SELECTOR: 'pb',
      DKIM_PRIVATE_KEY: pem,
    };
    const sent = await run(['send', '--force'], env);
    expect(sent.status, sent.stderr).toBe(0);
    const tested = await run(['send', '--test-address', 'ops@example.org'], env);
    expect(tested.status, tested.stderr).toBe(0);
    expect(smtp.received.map((r) => r.to)).toEqual([['reader@example.org'], ['ops@example.org']]);
    return { digest: smtp.received[0]!.raw.toString('latin1'), test: smtp.received[1]!.raw.toString('latin1') };
  }

  it('a digest carries exactly one signature, over the same fields, and it verifies with the public key', async () => {
    const byClient = { pipelining: await sendWith('pipelining'), nodemailer: await sendWith('nodemailer') };
    const signed: Record<string, string[]> = {};
    for (const [client, mails] of Object.entries(byClient)) {
      for (const [kind, raw] of Object.entries(mails)) {
        const head = headOf(raw);
        expect(head.match(/^DKIM-Signature:/gim)?.length, `${client} ${kind}: one signature`).toBe(1);
        const check = verifyDkim(raw, publicKey);
        expect(check.ok, `${client} ${kind}: verifies`).toBe(true);
        expect(check.bodyHashOk, `${client} ${kind}: body hash`).toBe(true);
        expect([check.domain, check.selector]).toEqual(['paperboy.test', 'pb']);
        signed[`${client} ${kind}`] = check.signedHeaders;
      }
    }
    const digestFields = signed['pipelining digest']!;
    expect(digestFields).toEqual(
      expect.arrayContaining([
        'from',
        'to',
        'subject',
        'date',
        'message-id',
        'mime-version',
        'content-type',
        'list-id',
        'list-unsubscribe',
        'list-unsubscribe-post',
        'feedback-id',
      ]),
    );
    // Gmail's feedback loop: the edition as campaign, the kind of digest, the mail type, the sender; signed with the rest.
    expect(headOf(byClient.pipelining.digest)).toMatch(/^Feedback-ID: e\d+:daily-trending:digest:paperboy$/m);
    expect(headOf(byClient.nodemailer.digest)).toMatch(/^Feedback-ID: e\d+:daily-trending:digest:paperboy$/m);
    expect(headOf(byClient.pipelining.test)).toMatch(/^Feedback-ID: test:trending:digest:paperboy$/m);
    expect(signed['nodemailer digest']).toEqual(digestFields);
    expect(signed['nodemailer test']).toEqual(signed['pipelining test']);
  }, 120_000);
});
