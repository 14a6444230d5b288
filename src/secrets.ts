// Owns the two secrets paperboy needs (admin token, link-signing key): from config, else generated once and kept.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads `DATA_DIR/name`, creating it with fresh random bytes on first use. Kept on disk so links in mail already
 * sent keep working after a restart; mode 0600 because it is a credential.
 */
export function persistentSecret(dataDir: string, name: string, bytes: number): string {
  const file = join(dataDir, name);
  if (existsSync(file)) {
    const value = readFileSync(file, 'utf8').trim();
    if (value.length >= 16) return value;
  }
  mkdirSync(dataDir, { recursive: true });
  const value = randomBytes(bytes).toString('base64url');
  writeFileSync(file, value + '\n', { mode: 0o600 });
  return value;
}

/** The link-signing key: SECRET_KEY, else the one generated into DATA_DIR on first use. */
export function signingKey(cfg: { DATA_DIR: string; SECRET_KEY?: string | undefined }): string {
  return cfg.SECRET_KEY ?? persistentSecret(cfg.DATA_DIR, 'secret-key', 32);
}

export function resolveSecrets(cfg: { DATA_DIR: string; ADMIN_TOKEN?: string | undefined; SECRET_KEY?: string | undefined }) {
  return {
    ADMIN_TOKEN: cfg.ADMIN_TOKEN ?? persistentSecret(cfg.DATA_DIR, 'admin-token', 24),
    SECRET_KEY: signingKey(cfg),
  };
}

/**
 * A short per-install tag for Message-IDs: an HMAC of the link-signing key, so two fresh installs never share ids
 * while the key itself stays unguessable from mail headers. Stable across restarts because the key is.
 */
export function installTag(cfg: { DATA_DIR: string; SECRET_KEY?: string | undefined }): string {
  const key = signingKey(cfg);
  return createHmac('sha256', key).update('paperboy message-id').digest('hex').slice(0, 16);
}
