// Owns what makes mail reach the inbox on the sender's side: the DNS records to publish, a DKIM key, and the
// warnings for a configuration that mailbox providers (Gmail's and Yahoo's 2024 bulk-sender rules) would punish.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { Config } from '../config.js';
import { dkimKey } from './dkim.js';
import { envelopeFrom } from './envelope.js';
import { bounceDomain, complaintsAddress } from './return-path.js';

type DeliverabilityConfig = Pick<
  Config,
  'MAIL_FROM' | 'MAIL_DOMAIN' | 'BOUNCE_DOMAIN' | 'COMPLAINTS_ADDRESS' | 'PUBLIC_URL' | 'DKIM_DOMAIN' | 'DKIM_SELECTOR' | 'DKIM_PRIVATE_KEY'
>;

export function fromDomain(mailFrom: string): string {
  const address = envelopeFrom(mailFrom);
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Relaxed DMARC alignment: one domain is the other or under it (RFC 7489 3.1.1, simplified to parent domains). */
function aligned(dkimDomain: string, from: string): boolean {
  const d = dkimDomain.toLowerCase();
  return from === d || from.endsWith(`.${d}`) || d.endsWith(`.${from}`);
}

export interface DeliverabilityWarning {
  setting: string;
  message: string;
}

/** Each problem once, with the setting to change; empty when the setup is what providers expect. */
export function deliverabilityWarnings(config: DeliverabilityConfig): DeliverabilityWarning[] {
  const out: DeliverabilityWarning[] = [];
  const from = fromDomain(config.MAIL_FROM);
  const key = dkimKey(config);
  if (!key) {
    out.push({
      setting: 'DKIM_PRIVATE_KEY',
      message:
        'no DKIM signature: Gmail and Yahoo reject or junk unsigned bulk mail (create a key with `paperboy dkim-keygen`, publish it with `paperboy dns`)',
    });
  } else if (!aligned(key.domainName, from)) {
    out.push({ setting: 'DKIM_DOMAIN', message: `DKIM signs for ${key.domainName} but mail is From ${from}: DMARC needs the two aligned` });
  }
  const envelope = bounceDomain(config);
  if (!aligned(envelope, from)) {
    out.push({
      setting: 'BOUNCE_DOMAIN',
      message: `bounces come back to ${envelope} but mail is From ${from}: SPF only counts for DMARC when the two are aligned`,
    });
  }
  if (!config.PUBLIC_URL.startsWith('https://')) {
    out.push({ setting: 'PUBLIC_URL', message: `${config.PUBLIC_URL} is not https: one-click unsubscribe (RFC 8058) needs an https List-Unsubscribe link` });
  }
  if (/(^|[@.])localhost\b/i.test(envelopeFrom(config.MAIL_FROM))) {
    out.push({ setting: 'MAIL_FROM', message: `${envelopeFrom(config.MAIL_FROM)} is a localhost address: no provider accepts mail from it` });
  }
  if (/(^|\.)localhost$/i.test(config.MAIL_DOMAIN)) {
    out.push({ setting: 'MAIL_DOMAIN', message: 'MAIL_DOMAIN is localhost: Message-IDs and unsubscribe addresses name a domain nobody can reach' });
  }
  return out;
}

/** The DKIM record's `p=`: the public key (SubjectPublicKeyInfo, base64) of the configured private key. */
export function dkimPublicKey(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' }).toString('base64');
}

export interface DnsRecord {
  name: string;
  type: 'TXT' | 'MX';
  value: string;
  why: string;
}

const SPF = 'v=spf1 mx a ~all';

/**
 * The records to publish: SPF for the envelope domain of digests (BOUNCE_DOMAIN, what SPF checks) and for MAIL_FROM's
 * domain (confirmations and test sends use it), the MX that brings bounces back, DKIM (when a key is configured), DMARC.
 */
export function dnsRecords(config: DeliverabilityConfig): DnsRecord[] {
  const domain = fromDomain(config.MAIL_FROM);
  const envelope = bounceDomain(config);
  const why = 'SPF: which hosts may send for the domain (add your relay, e.g. include:_spf.example.net)';
  const records: DnsRecord[] = [{ name: domain, type: 'TXT', value: SPF, why }];
  if (envelope !== domain) records.push({ name: envelope, type: 'TXT', value: SPF, why: `${why}; digests' envelope sender is bounces+…@${envelope}` });
  const host = new URL(config.PUBLIC_URL).hostname;
  records.push({
    name: envelope,
    type: 'MX',
    value: `10 ${host}.`,
    why: `bounces (to bounces+…@${envelope}) and complaints (to ${complaintsAddress(config)}) come back here: the host running paperboy's inbound listener, port 25 forwarded to INBOUND_SMTP_PORT`,
  });
  const key = dkimKey(config);
  if (key) {
    // TXT strings hold at most 255 characters each; a 2048-bit key's record is split into several, as DNS allows.
    const value = `v=DKIM1; k=rsa; p=${dkimPublicKey(key.privateKey)}`;
    records.push({ name: `${key.keySelector}._domainkey.${key.domainName}`, type: 'TXT', value, why: 'DKIM: the public key receivers check signatures with' });
  }
  records.push({
    name: `_dmarc.${domain}`,
    type: 'TXT',
    value: `v=DMARC1; p=none; rua=mailto:dmarc@${domain}; adkim=r; aspf=r`,
    why: 'DMARC: what receivers do with mail that fails SPF and DKIM, and where they send reports (start with p=none, then quarantine)',
  });
  return records;
}

/** A zone-file line; long TXT values split into quoted strings of at most 255 characters. */
export function zoneLine(r: DnsRecord): string {
  if (r.type === 'MX') return `${r.name}. IN MX ${r.value}`;
  const parts = r.value.match(/.{1,255}/g) ?? [''];
  return `${r.name}. IN TXT ${parts.map((p) => `"${p}"`).join(' ')}`;
}

/** A new RSA key for DKIM, as PKCS#8 PEM. 2048 bits: what Gmail asks for, and what fits a TXT record. */
export function generateDkimKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
