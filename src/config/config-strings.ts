// Every string of a configuration value with its config path (`providers[2].tls.key`), for the production
// checks that look at what strings name: demo peers and material (./production.ts), private key files
// open to others (./key-file-modes.ts).
export function forEachString(value: unknown, at: string, visit: (text: string, at: string) => void): void {
  if (typeof value === 'string') visit(value, at);
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) forEachString(v, `${at}[${i}]`, visit);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) forEachString(v, `${at}.${k}`, visit);
}
