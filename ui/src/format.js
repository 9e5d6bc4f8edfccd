// Formatting shared by the lazily loaded System pages.

// size reads a byte count the way people do (1024-based).
export function size(n) {
  if (!Number.isFinite(n)) return '—'
  if (n < 1024) return n + ' B'
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + units[i]
}

// utc shows a server date as "YYYY-MM-DD hh:mm:ss" (UTC).
export function utc(s) {
  const d = new Date(typeof s === 'string' ? s.replace(' ', 'T') : s)
  return Number.isNaN(d.getTime()) ? (s || '—') : d.toISOString().slice(0, 19).replace('T', ' ')
}
