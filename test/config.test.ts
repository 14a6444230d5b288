import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, envSchema } from '../src/config.js';
import { readFileSync } from 'node:fs';

describe('config', () => {
  it('works with no environment at all', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      PUBLIC_URL: 'http://localhost:3000',
      DATABASE_PATH: './data/paperboy.db',
      OUTBOX_DIR: './data/outbox',
      MAIL_TRANSPORT: 'outbox',
      CONFIRM_TOKEN_TTL_HOURS: 48,
    });
  });

  it('switches to SMTP when SMTP_URL is set', () => {
    expect(loadConfig({ SMTP_URL: 'smtp://mail.example.org:587' }).MAIL_TRANSPORT).toBe('smtp');
  });

  it('names every bad key with what it expects, in one message', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', MAIL_TRANSPORT: 'pigeon', PUBLIC_URL: 'localhost' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      'Invalid configuration:\n' +
        '  PORT: expected a whole number from 1 to 65535, got "eighty"\n' +
        '  PUBLIC_URL: expected a URL starting with http:// or https://, got "localhost"\n' +
        '  MAIL_TRANSPORT: expected one of outbox, smtp, got "pigeon"\n' +
        '(see .env.example for every key and its default)',
    );
  });

  it('rejects an out-of-range port', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow('  PORT: expected a whole number from 1 to 65535, got "70000"');
  });

  it('requires SMTP_URL for the smtp transport and all DKIM keys together', () => {
    expect(() => loadConfig({ MAIL_TRANSPORT: 'smtp' })).toThrow('  SMTP_URL: required when MAIL_TRANSPORT is smtp');
    expect(() => loadConfig({ DKIM_DOMAIN: 'example.org' })).toThrow(
      '  DKIM_SELECTOR: required when any DKIM_* key is set\n  DKIM_PRIVATE_KEY: required when any DKIM_* key is set',
    );
  });

  it('reads DKIM_PRIVATE_KEY once: a one-line value with \\n escapes becomes the PEM, and a value that is no key is named', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const dkim = { DKIM_DOMAIN: 'example.org', DKIM_SELECTOR: 'pb' };
    expect(loadConfig({ ...dkim, DKIM_PRIVATE_KEY: pem.trim().replace(/\n/g, '\\n') }).DKIM_PRIVATE_KEY).toBe(pem.trim());
    expect(loadConfig({ ...dkim, DKIM_PRIVATE_KEY: pem }).DKIM_PRIVATE_KEY).toBe(pem);
    expect(() => loadConfig({ ...dkim, DKIM_PRIVATE_KEY: 'not-a-key' })).toThrow(/DKIM_PRIVATE_KEY: not a PEM private key/);
  });

  it("takes the live sources' keys, with offline-safe defaults, and names a bad one", () => {
    expect(loadConfig({})).toMatchObject({
      DAILY_PAPERS_URL: 'https://huggingface.co',
      ARXIV_CATEGORIES: '',
      FETCH_ENABLED: true,
      FETCH_SCHEDULE: '30 7,19 * * *',
      FETCH_DAYS: 3,
      FETCH_RETRIES: 2,
    });
    expect(loadConfig({ DAILY_PAPERS_URL: 'off', ARXIV_CATEGORIES: 'cs.LG, cs.CL,math.OC', FETCH_SCHEDULE: 'off' })).toMatchObject({
      DAILY_PAPERS_URL: 'off',
      FETCH_SCHEDULE: 'off',
    });
    let err: unknown;
    try {
      loadConfig({ DAILY_PAPERS_URL: 'huggingface.co', FETCH_SCHEDULE: 'every morning', ARXIV_CATEGORIES: 'cs.LG;cs.CL' });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe(
      'Invalid configuration:\n' +
        '  DAILY_PAPERS_URL: expected a URL starting with http:// or https://, or off, got "huggingface.co"\n' +
        '  ARXIV_CATEGORIES: expected arXiv categories separated by commas, such as cs.LG,cs.CL, got "cs.LG;cs.CL"\n' +
        '  FETCH_SCHEDULE: expected a cron expression such as "30 7,19 * * *", or off, got "every morning"\n' +
        '(see .env.example for every key and its default)',
    );
  });

  it('.env.example lists every key of the schema', () => {
    const example = readFileSync('.env.example', 'utf8');
    const keys = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(new Set(keys)).toEqual(new Set(Object.keys(envSchema.shape)));
  });
});
