// Owns the confirmation email: the MJML template compiled once at start, then filled per message (HTML + text).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { mjml2html } from '../render/mjml.js';
import { lazyRequire } from '../lazy-require.js';

const htmlToText = lazyRequire<typeof import('html-to-text')>('html-to-text');

const here = dirname(fileURLToPath(import.meta.url));
export const EMAIL_TEMPLATES_DIR = join(here, '..', '..', 'templates', 'email');

export const CONFIRM_SUBJECT = 'Confirm your paperboy subscription';

export interface ConfirmEmailData {
  email: string;
  confirmUrl: string;
  ttlHours: number;
  senderLine: string;
}

export interface ConfirmEmailRenderer {
  render(data: ConfirmEmailData): { subject: string; html: string; text: string };
}

/**
 * MJML leaves Handlebars expressions untouched, so the slow MJML step runs once here and each email only fills
 * the compiled HTML (Handlebars escapes every value). Strict validation: a broken template stops the start.
 */
export async function loadConfirmEmail(dir = EMAIL_TEMPLATES_DIR): Promise<ConfirmEmailRenderer> {
  const source = await readFile(join(dir, 'confirm.mjml.hbs'), 'utf8');
  // No web fonts (`fonts: {}`): MJML links Google's Roboto when a font stack names it, a remote load on opening.
  const out = await mjml2html(source, { validationLevel: 'strict', filePath: dir, fonts: {} });
  const hbs = Handlebars.create();
  const html = hbs.compile(out.html, { strict: true });
  // Compiled once: html-to-text's convert() builds its selector tree from the options on every call (~1 ms a message).
  const toText = htmlToText().compile({
    wordwrap: 78,
    selectors: [
      // The template prints every link as text too, so hrefs would only repeat it.
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      // MJML's hidden preview line belongs to the inbox list, not the body.
      { selector: 'div[style*="display:none"]', format: 'skip' },
    ],
  });
  return {
    render(data) {
      const body = html(data);
      const text = toText(body);
      return { subject: CONFIRM_SUBJECT, html: body, text };
    },
  };
}
