// Owns picking the transport from config: the embedded outbox by default, pooled SMTP when MAIL_TRANSPORT=smtp.
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { systemClock, type Clock } from '../clock.js';
import type { Messenger } from './messenger.js';
import { createOutboxMessenger } from './outbox-messenger.js';
import { createSmtpMessenger } from './smtp-messenger.js';
import { pipeliningMessengerFromConfig } from './pipelining-messenger.js';
import { rateLimited } from './rate-limited-messenger.js';

export function createMessenger(config: Config, log: Logger, clock: Clock = systemClock): Messenger {
  if (config.MAIL_TRANSPORT === 'smtp') {
    // loadConfig already refuses MAIL_TRANSPORT=smtp without SMTP_URL; the URL may hold a password.
    log.info(
      { host: new URL(config.SMTP_URL!).host, client: config.SMTP_CLIENT, pool: config.SMTP_POOL_SIZE, ratePerSec: config.SMTP_RATE_PER_SEC || 'unlimited' },
      'mail: SMTP',
    );
    // The pipelining client is several times faster on digests; nodemailer stays for relays that need it.
    const client = config.SMTP_CLIENT === 'nodemailer' ? createSmtpMessenger(config, log) : pipeliningMessengerFromConfig(config);
    return rateLimited(client, config.SMTP_RATE_PER_SEC);
  }
  log.info({ dir: config.OUTBOX_DIR }, 'mail: embedded outbox (set SMTP_URL to send real mail)');
  return createOutboxMessenger(config, log, clock);
}
