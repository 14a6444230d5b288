// Owns the runtime configuration: one zod schema, read once, every bad key reported together.
import { z } from 'zod';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import cron from 'node-cron';

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: `expected a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `expected a whole number from ${min} to ${max}` })
        .max(max, { error: `expected a whole number from ${min} to ${max}` }),
    );

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' }))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { error: `expected a URL starting with ${protocols.map((p) => p + '//').join(' or ')}` },
    );

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected an IANA time zone such as UTC or Europe/London' },
);

const urlOrOff = z
  .string()
  .trim()
  .refine(
    (v) => {
      if (v === 'off') return true;
      try {
        return ['http:', 'https:'].includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { error: 'expected a URL starting with http:// or https://, or off' },
  );

const cronOrOff = z
  .string()
  .trim()
  .refine((v) => v === 'off' || cron.validate(v), { error: 'expected a cron expression such as "30 7,19 * * *", or off' });

const categories = z
  .string()
  .trim()
  .regex(/^$|^[a-z-]+(\.[A-Za-z-]+)?(\s*,\s*[a-z-]+(\.[A-Za-z-]+)?)*$/, { error: 'expected arXiv categories separated by commas, such as cs.LG,cs.CL' });

function isPrivateKey(pem: string): boolean {
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}

/** Every key paperboy reads. `.env.example` mirrors this list; keep them in step. */
export const envSchema = z.object({
  PORT: int(1, 65535).default(3000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  // Off by default: only behind a reverse proxy you run may X-Forwarded-For decide the client IP (rate limits).
  TRUST_PROXY: bool.default(false),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  // Fastify's requestTimeout: the most a whole request (headers and body) may take to arrive; 0 turns it off.
  HTTP_REQUEST_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  // Fastify's connectionTimeout: a socket idle this long is closed (a trickling client is not idle); 0 turns it off.
  HTTP_CONNECTION_TIMEOUT_MS: int(0, 3_600_000).default(60_000),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_PATH: z.string().trim().min(1).optional(),
  SEEDS_DIR: z.string().trim().min(1).default('./seeds'),
  // A big ingest commits this often so other writers (a subscribe, a send) get in between; 0: one transaction.
  INGEST_CHUNK_MS: int(0, 60_000).default(250),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  // auto: readable lines when stderr is a terminal, JSON (one object a line) when it is a file, a pipe or journald.
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json'], { error: 'expected one of auto, pretty, json' }).default('auto'),
  ADMIN_TOKEN: z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
  // Wrong tokens one client address may try at /admin/login before it is shut out for the lockout.
  ADMIN_LOGIN_MAX_FAILURES: int(1, 1000).default(5),
  ADMIN_LOGIN_LOCKOUT_MINUTES: int(1, 24 * 60).default(15),
  SECRET_KEY: z.string().min(32, { error: 'expected at least 32 characters' }).optional(),
  MAIL_TRANSPORT: z.enum(['outbox', 'smtp'], { error: 'expected one of outbox, smtp' }).optional(),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  SMTP_CLIENT: z.enum(['pipelining', 'nodemailer'], { error: 'expected one of pipelining, nodemailer' }).default('pipelining'),
  SMTP_POOL_SIZE: int(1, 100).default(5),
  SMTP_RATE_PER_SEC: int(0, 100000).default(0),
  MAIL_FROM: z.string().trim().min(3).default('paperboy <digest@localhost>'),
  MAIL_DOMAIN: z
    .string()
    .trim()
    .regex(/^[a-z0-9.-]+$/i, { error: 'expected a domain name such as example.org' })
    .default('localhost'),
  // The domain of each digest's VERP envelope sender (bounces+TOKEN@BOUNCE_DOMAIN): its MX must reach the inbound
  // listener, and for SPF alignment it should be the From domain or under it. Unset: MAIL_DOMAIN.
  BOUNCE_DOMAIN: z
    .string()
    .trim()
    .regex(/^[a-z0-9.-]+$/i, { error: 'expected a domain name such as bounces.example.org' })
    .optional(),
  // Where feedback loops (ARF reports, RFC 5965) are sent; the inbound listener takes mail for it. Unset: abuse@MAIL_DOMAIN.
  COMPLAINTS_ADDRESS: z.email({ error: 'expected an email address such as abuse@example.org' }).optional(),
  // Soft bounces (4.x.x, 5.7.x policy refusals, delays) that suppress an address when this many come within the window.
  SOFT_BOUNCE_LIMIT: int(1, 100).default(3),
  SOFT_BOUNCE_WINDOW_DAYS: int(1, 365).default(30),
  SENDER_ADDRESS_LINE: z.string().trim().default('paperboy, a self-hosted research digest'),
  OUTBOX_DIR: z.string().trim().min(1).optional(),
  INBOUND_SMTP_ENABLED: bool.default(true),
  INBOUND_SMTP_PORT: int(0, 65535).default(2525),
  INBOUND_SMTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
  INBOUND_MAX_BYTES: int(1024, 50_000_000).default(256 * 1024),
  // Each inbound message can start one confirmation email with a forged From, so these bound what a client can cause.
  INBOUND_MAX_RECIPIENTS: int(1, 1000).default(10),
  INBOUND_MAX_MESSAGES_PER_CONNECTION: int(1, 100_000).default(10),
  INBOUND_RATE_LIMIT_PER_MIN: int(1, 1_000_000).default(10),
  CONFIRM_TOKEN_TTL_HOURS: int(1, 24 * 30).default(48),
  SUBSCRIBE_RATE_LIMIT_PER_MIN: int(1, 1_000_000).default(10),
  DEFAULT_TIME_ZONE: timeZone.default('UTC'),
  DIGEST_SIZE_DEFAULT: int(1, 30).default(10),
  SEND_MAX_ATTEMPTS: int(1, 50).default(6),
  SEND_RETRY_BASE_SECONDS: int(1, 86400).default(60),
  // Only messages on the wire at a crash are unknown (src/delivery/wire-journal.ts): resending those few is what
  // keeps a crash from skipping anyone; docs/delivery.md says why this is the default.
  RESEND_UNKNOWN: bool.default(true),
  // A mail server that cannot be reached pauses the run (no attempt spent); it is probed after this, doubling.
  SEND_PROBE_INITIAL_MS: int(10, 3_600_000).default(1000),
  SEND_PROBE_MAX_MS: int(10, 3_600_000).default(60_000),
  // How long one send run waits out an outage before it stops; the rows stay queued for the next run or tick.
  SEND_OUTAGE_MAX_SECONDS: int(1, 7 * 86400).default(1800),
  SCHEDULER_ENABLED: bool.default(true),
  // The live corpus (src/corpus/fetcher.ts). Offline, a fetch fails quietly and the digest goes out from what is stored.
  DAILY_PAPERS_URL: urlOrOff.default('https://huggingface.co'),
  ARXIV_API_URL: url(['http:', 'https:']).default('https://export.arxiv.org'),
  ARXIV_CATEGORIES: categories.default(''),
  ARXIV_MAX_RESULTS: int(1, 2000).default(200),
  FETCH_ENABLED: bool.default(true),
  FETCH_SCHEDULE: cronOrOff.default('30 7,19 * * *'),
  FETCH_DAYS: int(1, 30).default(3),
  FETCH_TIMEOUT_SECONDS: int(1, 600).default(20),
  FETCH_RETRIES: int(0, 10).default(2),
  // How far V8 may grow the heap past what survived the last full GC, in percent; 0 leaves V8's own rule.
  HEAP_GROWTH_PERCENT: int(0, 400).default(50),
  DKIM_DOMAIN: z.string().trim().min(1).optional(),
  DKIM_SELECTOR: z.string().trim().min(1).optional(),
  // A one-line .env holds the PEM with `\n` escapes: turned into line breaks here, once, for every signer.
  DKIM_PRIVATE_KEY: z
    .string()
    .min(1)
    .transform((k) => (k.includes('\\n') && !k.includes('\n') ? k.replace(/\\n/g, '\n') : k))
    .refine(isPrivateKey, 'not a PEM private key (-----BEGIN PRIVATE KEY----- or RSA PRIVATE KEY; `\\n` escapes are fine)')
    .optional(),
});

type Env = z.infer<typeof envSchema>;

export interface Config extends Omit<Env, 'PUBLIC_URL' | 'DATABASE_PATH' | 'OUTBOX_DIR' | 'MAIL_TRANSPORT'> {
  PUBLIC_URL: string;
  DATABASE_PATH: string;
  OUTBOX_DIR: string;
  MAIL_TRANSPORT: 'outbox' | 'smtp';
}

export class ConfigError extends Error {
  constructor(public readonly problems: { key: string; message: string }[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.key}: ${p.message}`).join('\n') + '\n(see .env.example for every key and its default)');
    this.name = 'ConfigError';
  }
}

// Whose values an error must never print: they end up in terminals, CI logs and bug reports.
const SECRET_KEYS = new Set(['ADMIN_TOKEN', 'SECRET_KEY', 'DKIM_PRIVATE_KEY']);

function show(key: string, value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = String(value);
  if (SECRET_KEYS.has(key)) return `a value of ${s.length} character${s.length === 1 ? '' : 's'} (not shown: it is a secret)`;
  // The URL may carry a password (smtp://user:pass@host); anything that could be one is hidden.
  if (key === 'SMTP_URL' && /[:@]/.test(s.replace(/^[a-z]+:\/\//i, ''))) return 'a value not shown (it may hold a password)';
  return s.length > 40 ? JSON.stringify(s.slice(0, 40) + '…') : JSON.stringify(s);
}

/** Parses an environment (strings, as process.env holds them). Empty strings count as unset. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = envSchema.safeParse(input);
  const problems: { key: string; message: string }[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '(config)');
      if (problems.some((p) => p.key === key)) continue;
      problems.push({ key, message: `${issue.message}, got ${show(key, input[key])}` });
    }
  }
  const e = parsed.data;
  if (e) {
    if (e.MAIL_TRANSPORT === 'smtp' && !e.SMTP_URL) {
      problems.push({ key: 'SMTP_URL', message: 'required when MAIL_TRANSPORT is smtp' });
    }
    const dkim = [e.DKIM_DOMAIN, e.DKIM_SELECTOR, e.DKIM_PRIVATE_KEY].filter((v) => v !== undefined).length;
    if (dkim !== 0 && dkim !== 3) {
      for (const key of ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY'] as const) {
        if (e[key] === undefined) problems.push({ key, message: 'required when any DKIM_* key is set' });
      }
    }
  }
  if (problems.length > 0 || !e) throw new ConfigError(problems);
  const dataDir = e.DATA_DIR;
  return {
    ...e,
    PUBLIC_URL: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    DATABASE_PATH: e.DATABASE_PATH ?? `${dataDir}/paperboy.db`,
    OUTBOX_DIR: e.OUTBOX_DIR ?? `${dataDir}/outbox`,
    MAIL_TRANSPORT: e.MAIL_TRANSPORT ?? (e.SMTP_URL ? 'smtp' : 'outbox'),
  };
}

/** The process environment over `.env` (when present): the one place the environment is read. */
export function readEnvironment(cwd = process.cwd()): Record<string, string | undefined> {
  const file = `${cwd}/.env`;
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}
