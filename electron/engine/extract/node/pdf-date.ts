// PDF dates (ISO 32000-1 §7.9.4): "D:YYYYMMDDHHmmSSOHH'mm'", every part after the year optional,
// O one of + - Z. Producers get this wrong in many ways (no "D:", missing apostrophes, "Z00'00'"),
// so parsing is lenient about separators and strict about ranges.

/** Epoch ms of a PDF date string, or null when it is absent or not a date. Without a zone, UTC. */
export function parsePdfDate(value: string | null | undefined): number | null {
  if (!value) return null;
  const match = /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*(?:([Zz+-])\s*(\d{2})?'?\s*(\d{2})?'?)?/.exec(value.trim());
  if (!match) return null;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', sign, zh = '00', zm = '00'] = match;
  const parts = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)];
  const [year, month, day, hour, minute, second] = parts as [number, number, number, number, number, number];
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 February over into March; a date that does not exist is not a date.
  if (new Date(utc).getUTCDate() !== day) return null;
  const offsetMinutes = sign === '+' || sign === '-' ? (sign === '-' ? -1 : 1) * (Number(zh) * 60 + Number(zm)) : 0;
  return utc - offsetMinutes * 60_000;
}
