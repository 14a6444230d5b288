// Owns `paperboy dns` and `paperboy dkim-keygen`: the DNS records to publish for the configured domain, and a DKIM key.
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, readEnvironment } from '../config.js';
import { deliverabilityWarnings, dnsRecords, generateDkimKey, zoneLine } from '../mail/deliverability.js';
import { UserError } from './context.js';

export function registerMailSetupCommands(program: Command, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  program
    .command('dns')
    .description("print the DNS records to publish for MAIL_FROM's domain (SPF, DKIM from the configured key, DMARC)")
    .option('--json', 'as JSON')
    .action((o: { json?: boolean }) => {
      // Only the configuration: no database is opened for this.
      const config = loadConfig(readEnvironment());
      const records = dnsRecords(config);
      const warnings = deliverabilityWarnings(config);
      if (o.json) {
        write(JSON.stringify({ records, warnings }, null, 2) + '\n');
        return;
      }
      for (const r of records) write(`; ${r.why}\n${zoneLine(r)}\n\n`);
      for (const w of warnings) write(`; warning (${w.setting}): ${w.message}\n`);
    });

  program
    .command('dkim-keygen')
    .description('write a new 2048-bit DKIM private key (PEM, readable by its owner only) and print the settings for it')
    .requiredOption('--out <file>', 'where to write the key')
    .option('--selector <name>', 'the DKIM selector to publish it under', 'paperboy')
    .action((o: { out: string; selector: string }) => {
      if (!/^[a-z0-9][a-z0-9-]*$/i.test(o.selector)) throw new UserError(`--selector ${JSON.stringify(o.selector)}: letters, digits and dashes only`);
      // Never over a key that may already be published: a new one would break every signature until DNS follows.
      if (existsSync(o.out)) throw new UserError(`${o.out} exists: not overwritten (remove it first to replace the key)`);
      const pem = generateDkimKey();
      writeFileSync(o.out, pem, { mode: 0o600, flag: 'wx' });
      write(
        `wrote ${o.out}\n` +
          `set, then run \`paperboy dns\` for the record to publish:\n` +
          `DKIM_SELECTOR=${o.selector}\nDKIM_DOMAIN=<the domain of MAIL_FROM>\n` +
          `DKIM_PRIVATE_KEY="${pem.trim().replace(/\n/g, '\\n')}"\n`,
      );
    });
}
