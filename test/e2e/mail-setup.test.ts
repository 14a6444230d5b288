// Authentication as part of setup (issue 15): `paperboy dkim-keygen` writes a key, `paperboy dns` prints the records
// for it, and a service started to send real mail names each setting providers would punish.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deliverabilityWarnings } from '../../src/mail/deliverability.js';
import { loadConfig } from '../../src/config.js';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/tmp.js';
import { runCliAsync, startServe } from '../helpers/cli.js';

const run = runCliAsync;

describe('DKIM key and DNS records', () => {
  const dir = tempDir();
  const keyFile = join(dir, 'dkim.pem');

  it('dkim-keygen writes a private key only its owner reads, and never over an existing one', async () => {
    const r = await run(['dkim-keygen', '--out', keyFile, '--selector', 'pb'], { DATA_DIR: dir });
    expect(r.code, r.stderr).toBe(0);
    const pem = readFileSync(keyFile, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(r.stdout).toContain('DKIM_SELECTOR=pb');
    expect(r.stdout).toContain(`DKIM_PRIVATE_KEY="${pem.trim().replace(/\n/g, '\\n')}"`);
    const again = await run(['dkim-keygen', '--out', keyFile], { DATA_DIR: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists: not overwritten');
    expect(readFileSync(keyFile, 'utf8')).toBe(pem);
  });

  it('dns prints SPF, the DKIM record of the configured key, and DMARC for the From domain', async () => {
    const pem = readFileSync(keyFile, 'utf8');
    const env = {
      DATA_DIR: dir,
      MAIL_FROM: 'paperboy <digest@news.example.org>',
      MAIL_DOMAIN: 'news.example.org',
      BOUNCE_DOMAIN: 'bounces.news.example.org',
      PUBLIC_URL: 'https://news.example.org',
      DKIM_DOMAIN: 'example.org',
      DKIM_SELECTOR: 'pb',
      DKIM_PRIVATE_KEY: pem.trim().replace(/\n/g, '\\n'),
    };
    const r = await run(['dns'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('\nnews.example.org. IN TXT "v=spf1 mx a ~all"');
    // The envelope (VERP) domain gets its own SPF and the MX that brings bounces back to the inbound listener.
    expect(r.stdout).toContain('\nbounces.news.example.org. IN TXT "v=spf1 mx a ~all"');
    expect(r.stdout).toContain('\nbounces.news.example.org. IN MX 10 news.example.org.\n');
    expect(r.stdout).toContain('_dmarc.news.example.org. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@news.example.org; adkim=r; aspf=r"');
    const line = r.stdout.split('\n').find((l) => l.startsWith('pb._domainkey.example.org. IN TXT '))!;
    // The quoted strings joined, as a resolver hands them to a verifier.
    const value = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('');
    const expected = createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');
    expect(value).toBe(`v=DKIM1; k=rsa; p=${expected}`);
    expect(line.match(/"([^"]*)"/g)!.every((s) => s.length - 2 <= 255)).toBe(true);
    // Aligned (a parent domain signs), https, no localhost: nothing to warn about.
    expect(r.stdout).not.toContain('warning');
  });
});

describe('deliverability warnings', () => {
  it('name each setting providers would punish, and none for a good setup', () => {
    const settings = (w: ReturnType<typeof deliverabilityWarnings>) => w.map((x) => x.setting);
    expect(settings(deliverabilityWarnings(loadConfig({})))).toEqual(['DKIM_PRIVATE_KEY', 'PUBLIC_URL', 'MAIL_FROM', 'MAIL_DOMAIN']);
    const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const good = {
      MAIL_FROM: 'p <d@news.example.org>',
      MAIL_DOMAIN: 'news.example.org',
      PUBLIC_URL: 'https://news.example.org',
      DKIM_DOMAIN: 'example.org',
      DKIM_SELECTOR: 's',
      DKIM_PRIVATE_KEY: pem,
    };
    expect(deliverabilityWarnings(loadConfig(good))).toEqual([]);
    expect(settings(deliverabilityWarnings(loadConfig({ ...good, DKIM_DOMAIN: 'other.org' })))).toEqual(['DKIM_DOMAIN']);
    // Bounces under the From domain keep SPF aligned; a foreign bounce domain does not.
    expect(deliverabilityWarnings(loadConfig({ ...good, BOUNCE_DOMAIN: 'bounces.news.example.org' }))).toEqual([]);
    expect(settings(deliverabilityWarnings(loadConfig({ ...good, BOUNCE_DOMAIN: 'mailer.other.net' })))).toEqual(['BOUNCE_DOMAIN']);
  });

  describe('a service started to send real mail', () => {
    let child: ChildProcess | undefined;
    afterAll(() => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
    });

    it('warns on stderr for an http PUBLIC_URL and no DKIM key', async () => {
      const dir = tempDir();
      const port = await freePort();
      const serve = await startServe({
        DATA_DIR: dir,
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
        INBOUND_SMTP_ENABLED: 'false',
        SCHEDULER_ENABLED: 'false',
        FETCH_ENABLED: 'false',
        LOG_LEVEL: 'warn',
      });
      child = serve.child;
      const out = serve.output();
      expect(out).toMatch(/"setting":"PUBLIC_URL".*one-click unsubscribe \(RFC 8058\) needs an https/);
      expect(out).toMatch(/"setting":"DKIM_PRIVATE_KEY".*no DKIM signature/);
      child.kill('SIGTERM');
    });
  });
});
