// Owns DKIM: the one list of signed header fields, the key taken from the config, and signing bytes to a Buffer.
import DKIM from 'nodemailer/lib/dkim';
import type { Config } from '../config.js';

/**
 * Every header field a digest or a confirmation may carry that a reader or a mailbox provider acts on. Fields not in
 * a message are left out of its signature's `h=`. nodemailer's default list leaves out List-Unsubscribe-Post, and
 * RFC 8058 one-click needs it under the signature with List-Unsubscribe (Gmail and Yahoo check).
 */
export const DKIM_SIGNED_HEADERS = [
  'From',
  'Sender',
  'Reply-To',
  'To',
  'Cc',
  'Subject',
  'Date',
  'Message-ID',
  'In-Reply-To',
  'References',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'List-Id',
  'List-Help',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'List-Subscribe',
  'List-Post',
  'List-Owner',
  'List-Archive',
  'Feedback-ID',
  'Auto-Submitted',
].join(':');

export interface DkimKey {
  domainName: string;
  keySelector: string;
  /** PEM, with real line breaks (config.ts turns a one-line `\n`-escaped value into one). */
  privateKey: string;
}

/** The configured key, or undefined when DKIM is off (config.ts makes sure the three keys come together). */
export function dkimKey(config: Pick<Config, 'DKIM_DOMAIN' | 'DKIM_SELECTOR' | 'DKIM_PRIVATE_KEY'>): DkimKey | undefined {
  const { DKIM_DOMAIN: domainName, DKIM_SELECTOR: keySelector, DKIM_PRIVATE_KEY: privateKey } = config;
  return domainName && keySelector && privateKey ? { domainName, keySelector, privateKey } : undefined;
}

export type Signer = (raw: Buffer) => Promise<Buffer>;

/** Signs whole messages (CRLF, not dot-stuffed: a signature over stuffed bytes would not verify). */
export function createSigner(key: DkimKey): Signer {
  const signer = new DKIM({ ...key, headerFieldNames: DKIM_SIGNED_HEADERS });
  return (raw) =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const out = signer.sign(raw);
      out.on('data', (c: Buffer) => chunks.push(c));
      out.on('end', () => resolve(Buffer.concat(chunks)));
      out.on('error', reject);
    });
}
