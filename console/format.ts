/**
 * How the console writes figures: bytes in decimal units (what bills use: 1 GB = 10^9 bytes),
 * rates per second, ages, times in UTC (the ledger's hours and days are UTC).
 */
const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** 1234567 → "1.23 MB"; three significant digits from kB up. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  let i = 0;
  let v = n;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0) return `${Math.round(v)} B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[i]}`;
}

/** Bytes per second. */
export function formatRate(bps: number): string {
  return `${formatBytes(bps)}/s`;
}

/** 3725 s → "1 h 2 min"; 42 → "42 s". */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** "2026-12-03 14:05 UTC". */
export function formatTime(iso: string | number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * 0.4567 → "45.7 %", floored to a tenth of a percent: a share under a limit or a threshold never
 * shows as reaching it (0.9995 is "99.9 %", not "100 %"; 0.8999 is "89.9 %", not "90.0 %").
 */
export function formatShare(share: number): string {
  if (!Number.isFinite(share)) return '–';
  if (share === 0) return '0 %';
  if (share >= 1) {
    // Whole percents, with the same correction (1.15 * 100 is 114.999…).
    let p = Math.floor(share * 100);
    if ((p + 1) / 100 <= share) p += 1;
    if (p / 100 > share) p -= 1;
    return `${p} %`;
  }
  // Tenths of a percent, corrected for the binary product's error either way (0.57 * 1000 may be
  // 569.999…): t / 1000 is the largest such step at or below the share.
  let t = Math.floor(share * 1000);
  if ((t + 1) / 1000 <= share) t += 1;
  if (t / 1000 > share) t -= 1;
  return `${(t / 10).toFixed(1)} %`;
}

/** 1234567 → "1,234,567" (exact counts in tables and titles). */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
