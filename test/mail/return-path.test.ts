// The VERP envelope sender: one signed address per delivery, read back only when it verifies.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { complaintsAddress, verpDeliveryId, verpSender, verpToken } from '../../src/mail/return-path.js';

const SECRET = 'a-link-signing-key-of-enough-length';

describe('VERP addresses', () => {
  const config = loadConfig({ MAIL_DOMAIN: 'news.example.org' });

  it('names the delivery, fits a local part (64) and reads back only with the right key', () => {
    const address = verpSender(123456789012345, SECRET, config);
    expect(address).toMatch(/^bounces\+123456789012345-[0-9a-f]{28}@news\.example\.org$/);
    expect(address.split('@')[0]!.length).toBeLessThanOrEqual(64);
    const token = verpToken(address, config)!;
    expect(verpDeliveryId(token, SECRET)).toBe(123456789012345);
    expect(verpDeliveryId(token, 'another-key-of-enough-length-too')).toBeNull();
    // Mail systems may fold the case of the local part; the hex MAC survives it.
    expect(verpDeliveryId(verpToken(address.toUpperCase(), config)!, SECRET)).toBe(123456789012345);
  });

  it('belongs to BOUNCE_DOMAIN when set, and nothing else is a VERP address', () => {
    const own = loadConfig({ MAIL_DOMAIN: 'news.example.org', BOUNCE_DOMAIN: 'bounces.example.org' });
    const address = verpSender(7, SECRET, own);
    expect(address.endsWith('@bounces.example.org')).toBe(true);
    expect(verpToken(address, config)).toBeNull();
    expect(verpToken('bounces+7-xyz@bounces.example.org', own)).toBeNull();
    expect(verpToken('unsubscribe+7-0123456789abcdef0123456789abcdef@news.example.org', config)).toBeNull();
  });

  it('complaints go to abuse@MAIL_DOMAIN unless COMPLAINTS_ADDRESS says otherwise', () => {
    expect(complaintsAddress(config)).toBe('abuse@news.example.org');
    expect(complaintsAddress(loadConfig({ COMPLAINTS_ADDRESS: 'FBL@example.org' }))).toBe('fbl@example.org');
  });
});
