// VK_DATETIME, the time a bank signs its answer: `yyyy-MM-ddTHH:mm:ss+hhmm`, strictly.

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** `yyyy-MM-ddTHH:mm:ss+hhmm` in the given UTC offset (minutes east of UTC; default: this machine's). */
export function formatDatetime(date: Date, offsetMinutes = -date.getTimezoneOffset()): string {
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    `${sign}${pad(Math.trunc(Math.abs(offsetMinutes) / 60))}${pad(Math.abs(offsetMinutes) % 60)}`
  );
}

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2})(\d{2})$/;

/** Parse VK_DATETIME strictly (no colon in the offset); undefined when malformed or not a real time. */
export function parseDatetime(value: string): Date | undefined {
  const m = DATETIME_RE.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second, oh, om] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) => Number(m[i])) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const sign = m[7];
  if (oh > 14 || om > 59 || hour > 23 || minute > 59 || second > 59) return undefined;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day)
    return undefined;
  const offset = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  return new Date(wall - offset * 60_000);
}
