// Owns loading mailparser: on the first message read, not at start, since most commands never read one.
import type { simpleParser as SimpleParser } from 'mailparser';
import { lazyRequire } from '../lazy-require.js';

const mailparser = lazyRequire<{ simpleParser: typeof SimpleParser }>('mailparser');

/**
 * mailparser's module graph (libmime, encoding-japanese, mailsplit, tlds) adds about 30 MB to a process's RSS
 * (`node -e "await import('mailparser')"`: 70 MB against 40 MB bare): `paperboy send` and every other command that
 * reads no stored or inbound message should not carry it.
 */
export const simpleParser: typeof SimpleParser = ((...args: Parameters<typeof SimpleParser>) =>
  (mailparser().simpleParser as (...a: unknown[]) => unknown)(...args)) as typeof SimpleParser;
