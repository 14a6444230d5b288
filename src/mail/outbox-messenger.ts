// Owns the embedded transport: every message becomes one .eml file under OUTBOX_DIR, written atomically.
import type NodemailerType from 'nodemailer';
import { lazyRequire } from '../lazy-require.js';

const nodemailer = lazyRequire<typeof NodemailerType>('nodemailer');
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { systemClock, type Clock } from '../clock.js';
import { SendError, mailOptions, type Messenger, type OutgoingMessage, type RawMessage, type SendResult } from './messenger.js';
import { classifySendError } from './classify.js';
import { checkEnvelope, checkSingleRecipient } from './envelope.js';
import { rawBytes } from './raw-bytes.js';

/** `20261123T103000123Z-<16 hex>.eml`: names sort by time, so "newest first" is a reverse sort. */
export const OUTBOX_FILE = /^(\d{8}T\d{9}Z)-([0-9a-f]{16})\.eml$/;

function stampOf(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

export function createOutboxMessenger(config: Pick<Config, 'OUTBOX_DIR' | 'MAIL_FROM'>, log: Logger, clock: Clock = systemClock): Messenger {
  const dir = config.OUTBOX_DIR;
  // Only composes (streamTransport + buffer): nodemailer's MailComposer makes the real RFC 5322 bytes.
  const composer = nodemailer().createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  let lastMs = 0;

  /** Time-ordered within this process even when two messages share a millisecond. */
  function nextStamp(): string {
    const now = clock.now().getTime();
    lastMs = now > lastMs ? now : lastMs + 1;
    return stampOf(lastMs);
  }

  async function store(envelope: { from: string; to: string[] }, body: Buffer, messageId: string): Promise<SendResult> {
    // Envelope addresses land in header lines of the file: checked like SMTP would need them.
    checkEnvelope(envelope);
    const { from, to } = envelope;
    // What a local delivery agent adds: the envelope, visible in the outbox even when To: says otherwise.
    const trace = Buffer.from(`Return-Path: <${from}>\r\nDelivered-To: ${to.join(', ')}\r\n`);
    const hash = createHash('sha256')
      .update(messageId || randomBytes(8))
      .digest('hex')
      .slice(0, 16);
    const name = `${nextStamp()}-${hash}.eml`;
    // Written under a dot name the listing ignores, flushed, then renamed: readers see all of it or nothing.
    const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      // Every time, not once: someone may empty the outbox by deleting the directory while we run.
      await mkdir(dir, { recursive: true });
      const fh = await open(tmp, 'wx');
      try {
        await fh.writeFile(Buffer.concat([trace, body]));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(dir, name));
    } catch (err) {
      await unlink(tmp).catch(() => {});
      // A full disk or a read-only directory is an operator problem: retry later rather than fail the mail.
      throw new SendError(`outbox write failed: ${(err as Error).message}`, 'temporary', undefined, undefined, undefined, (err as NodeJS.ErrnoException).code);
    }
    log.debug({ file: name, to }, 'stored in outbox');
    return { accepted: to, rejected: [], response: `250 2.0.0 stored as ${name}`, messageId };
  }

  return {
    name: 'outbox',
    async send(msg: OutgoingMessage) {
      checkSingleRecipient(msg.to);
      let info: { message: Buffer; envelope: { from: string | false; to: string[] }; messageId: string };
      try {
        info = (await composer.sendMail({ ...mailOptions(msg, config.MAIL_FROM), date: clock.now() })) as unknown as typeof info;
      } catch (err) {
        throw classifySendError(err);
      }
      return store({ from: info.envelope.from || '', to: info.envelope.to }, info.message, msg.messageId ?? info.messageId);
    },
    async sendRaw(msg: RawMessage) {
      // From here a crash may leave the file written but not recorded: on the wire, as SMTP's DATA is.
      msg.onWire?.();
      return store(msg.envelope, rawBytes(msg), msg.messageId);
    },
    async close() {
      composer.close();
    },
  };
}
