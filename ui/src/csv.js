// CSV (RFC 4180) reading and writing, with no dependency: `node --test
// src/` runs its checks (csv.test.js).

// parseCSV returns the rows of text as arrays of strings. Fields may be
// quoted ("a, b"), with "" for a quote and commas and line breaks (CRLF,
// LF or CR) inside; a leading byte-order mark is dropped, and so is the
// empty row after a final line break. A quote inside an unquoted field is
// kept as is; a quoted field that never closes runs to the end of the
// text (errors reports it).
export function parseCSV(text, errors) {
  const rows = []
  let row = []
  let field = ''
  let i = 0
  const n = text.length
  if (text.charCodeAt(0) === 0xfeff) i = 1
  let quoted = false // the current field started with a quote
  let line = 1
  let quoteLine = 0
  while (i < n) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue }
        quoted = false
        i++
        continue
      }
      if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++
      field += ch
      i++
      continue
    }
    if (ch === '"' && field === '') { quoted = true; quoteLine = line; i++; continue }
    if (ch === ',') { row.push(field); field = ''; i++; continue }
    if (ch === '\r' || ch === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1
      line++
      continue
    }
    field += ch
    i++
  }
  if (quoted && errors) errors.push(`A quoted field opened on line ${quoteLine} never closes.`)
  if (field !== '' || row.length > 0 || quoted) {
    row.push(field)
    rows.push(row)
  }
  return rows
}

// csvField quotes a value when it holds a comma, a quote, a line break or
// leading or trailing spaces.
export function csvField(v) {
  const s = String(v ?? '')
  return /[",\r\n]|^\s|\s$/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s
}

// toCSV writes rows (arrays of values) as CSV text, lines ending in CRLF.
export function toCSV(rows) {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n'
}

// cellValue is how a record value is written to a CSV cell: arrays and
// objects as JSON, null and undefined as empty.
export function cellValue(v) {
  if (v === null || v === undefined) return ''
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}
