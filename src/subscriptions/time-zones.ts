// Owns time-zone names as people see and store them: canonical IANA names, whatever this runtime's ICU calls them.

/**
 * Node 20's ICU (CLDR) still lists and resolves some zones by their old names: `Asia/Kolkata` resolves to
 * `Asia/Calcutta`, and `Intl.supportedValuesOf('timeZone')` has no `Asia/Kolkata` at all. These are the IANA names
 * for them (tzdata's "backward" file); both names keep working as input to Intl.
 */
export const LEGACY_ZONE_NAMES: Readonly<Record<string, string>> = {
  'Africa/Asmera': 'Africa/Asmara',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
  'America/Catamarca': 'America/Argentina/Catamarca',
  'America/Coral_Harbour': 'America/Atikokan',
  'America/Cordoba': 'America/Argentina/Cordoba',
  'America/Godthab': 'America/Nuuk',
  'America/Indianapolis': 'America/Indiana/Indianapolis',
  'America/Jujuy': 'America/Argentina/Jujuy',
  'America/Louisville': 'America/Kentucky/Louisville',
  'America/Mendoza': 'America/Argentina/Mendoza',
  'Asia/Calcutta': 'Asia/Kolkata',
  'Asia/Katmandu': 'Asia/Kathmandu',
  'Asia/Rangoon': 'Asia/Yangon',
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Atlantic/Faeroe': 'Atlantic/Faroe',
  'Europe/Kiev': 'Europe/Kyiv',
  'Pacific/Enderbury': 'Pacific/Kanton',
  'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Truk': 'Pacific/Chuuk',
};

/** The IANA name for a name this runtime resolved (an old one mapped to its new name, any other unchanged). */
export function ianaName(resolved: string): string {
  return LEGACY_ZONE_NAMES[resolved] ?? resolved;
}

/** Every zone for a picker: UTC first, then the runtime's zones by their IANA names, sorted, each once. */
export const TIME_ZONE_CHOICES: readonly string[] = [
  'UTC',
  ...[...new Set(Intl.supportedValuesOf('timeZone').map(ianaName))].filter((z) => z !== 'UTC').sort(),
];
