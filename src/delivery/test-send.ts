// Owns `send --test-address`: today's digest for a new subscriber, built and sent the way every digest is, to any address.
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { Messenger } from '../mail/messenger.js';
import { DeliverySubscriber, isNothing, type DigestKind, type DigestSource } from './ports.js';
import { headersConfig, feedbackId } from './sender.js';
import { envelopeFrom } from '../mail/envelope.js';
import { buildTemplate, personalise } from './mime.js';
import { localDateOf } from './schedule.js';

export class NothingToSendError extends Error {}

/** Sends and returns the server's reply. Not a subscriber: nothing goes into the ledger. */
export async function sendTestDigest(
  d: { config: Config; clock: Clock; messenger: Messenger; digest: DigestSource },
  target: string,
  kind: DigestKind,
  runId: string,
): Promise<string> {
  const { config, clock } = d;
  const now = clock.now();
  const date = localDateOf(now, config.DEFAULT_TIME_ZONE);
  const digest = await d.digest.prepare(kind, date);
  const iso = now.toISOString();
  // A stand-in subscriber with nothing sent yet: the digest a new subscriber would get today.
  const subscriber = DeliverySubscriber.parse({
    id: 0,
    email: target,
    status: 'active',
    frequency: 'daily',
    weekday: 1,
    kind,
    topics: '[]',
    digest_size: config.DIGEST_SIZE_DEFAULT,
    delivery_hour: 0,
    time_zone: config.DEFAULT_TIME_ZONE,
    created_at: iso,
    confirmed_at: iso,
  });
  const selection = await digest.select(subscriber);
  if (isNothing(selection)) throw new NothingToSendError(`nothing to send: ${selection.nothing}`);
  // No List-Unsubscribe: the address is no subscriber, so a one-click header would point at nothing to leave.
  const template = await buildTemplate(await digest.render(selection), {
    ...headersConfig(config),
    feedbackId: feedbackId('test', kind),
    listUnsubscribe: false,
  });
  const messageId = `<test.${runId}@${config.MAIL_DOMAIN}>`;
  // No signed links exist for an address that is no subscriber, so the footer's links lead to the site.
  const links = { unsubscribeUrl: `${config.PUBLIC_URL}/`, unsubscribeMailto: `mailto:unsubscribe@${config.MAIL_DOMAIN}`, manageUrl: `${config.PUBLIC_URL}/` };
  const raw = await personalise(template, { email: target, messageId, links, date: now });
  const res = await d.messenger.sendRaw({ envelope: { from: envelopeFrom(config.MAIL_FROM), to: [target] }, raw, messageId });
  return res.response;
}
