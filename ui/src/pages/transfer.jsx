// Records export (CSV, JSON) and CSV import: a chunk of its own, loaded
// when one of the records page's buttons is first used.
import { useRef, useState } from 'preact/hooks'
import * as api from '../api.js'
import { parseCSV, toCSV, cellValue } from '../csv.js'
import { Field, Dialog, ErrorText } from '../widgets.jsx'

const EXPORT_PAGE = 500

// exportFields are the fields written: all but passwords and hidden
// system ones (the token key).
export function exportFields(c) {
  return (c.fields || []).filter((f) => f.type !== 'password' && !(f.system && f.hidden)).map((f) => f.name)
}

// fetchAll lists every record matching filter, in sort order, page by
// page; onProgress(done, total) follows it. It stops (throwing an
// AbortError) when signal aborts.
export async function fetchAll(c, { filter, sort, signal, onProgress }) {
  const out = []
  for (let page = 1; ; page++) {
    if (signal?.aborted) throw new DOMException('Export cancelled.', 'AbortError')
    const res = await api.listRecords(c.name, page, EXPORT_PAGE, { filter: filter || undefined, sort: sort || undefined, skipTotal: page > 1 })
    out.push(...res.items)
    const total = page === 1 ? res.totalItems : undefined
    onProgress?.(out.length, total)
    if (res.items.length < EXPORT_PAGE) return out
  }
}

// exportRecords fetches the records and hands them to the browser as a
// download (a Blob behind an object URL; nothing goes through a URL the
// server sees).
export async function exportRecords(c, format, opts) {
  const records = await fetchAll(c, opts)
  const names = exportFields(c)
  let blob
  if (format === 'csv') {
    const rows = [names, ...records.map((r) => names.map((n) => cellValue(r[n])))]
    blob = new Blob([toCSV(rows)], { type: 'text/csv;charset=utf-8' })
  } else {
    const list = records.map((r) => Object.fromEntries(names.map((n) => [n, r[n] ?? null])))
    blob = new Blob([JSON.stringify(list, null, 2) + '\n'], { type: 'application/json' })
  }
  download(blob, `${c.name}.${format}`)
  return records.length
}

function download(blob, name) {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

// importable are the fields a CSV column can fill: not autodates (the
// server sets them), files, nor the hidden token key (a password is).
function importable(c) {
  return (c.fields || []).filter((f) => f.type !== 'autodate' && f.type !== 'file' && !(f.system && f.hidden && f.type !== 'password'))
}

// convert turns a cell into the value a field takes; undefined leaves
// the field out (an empty cell keeps the field's default).
export function convert(f, s) {
  if (s === '') return undefined
  const multi = (f.type === 'select' || f.type === 'relation') && f.maxSelect !== 1
  switch (f.type) {
    case 'number': {
      const n = Number(s)
      return Number.isNaN(n) ? s : n
    }
    case 'bool': return /^(true|1|yes|on)$/i.test(s.trim())
    case 'json': case 'geoPoint':
      try { return JSON.parse(s) } catch { return s }
    case 'select': case 'relation':
      if (!multi) return s
      if (s.trim().startsWith('[')) { try { return JSON.parse(s) } catch { /* as a list */ } }
      return s.split(',').map((x) => x.trim()).filter(Boolean)
    default: return s
  }
}

const CONCURRENCY = 4

// ImportDialog reads a CSV file, maps its columns to fields, and creates
// one record per row: through the batch API when it is on (a chunk that
// fails is retried row by row, so every row's error is known), else one
// request per row, four at a time.
export function ImportDialog({ c, onClose, onDone }) {
  const fields = importable(c)
  const [file, setFile] = useState(null)
  const [rows, setRows] = useState(null) // [header, ...data]
  const [map, setMap] = useState([]) // column index -> field name or ''
  const [parseErr, setParseErr] = useState('')
  const [state, setState] = useState(null) // {done, total, created, errors, running, cancelled, via}
  const cancel = useRef(false)

  const pick = async (f) => {
    setFile(f)
    setRows(null)
    setState(null)
    setParseErr('')
    if (!f) return
    const errs = []
    const parsed = parseCSV(await f.text(), errs).filter((r) => !(r.length === 1 && r[0] === ''))
    if (parsed.length < 2) errs.push('The file needs a header row and at least one row of values.')
    setParseErr(errs.join(' '))
    if (parsed.length < 1) return
    setRows(parsed)
    setMap(parsed[0].map((h) => fields.find((x) => x.name === h.trim())?.name || fields.find((x) => x.name.toLowerCase() === h.trim().toLowerCase())?.name || ''))
  }

  const bodyOf = (row) => {
    const body = {}
    map.forEach((name, i) => {
      if (!name) return
      const f = fields.find((x) => x.name === name)
      const v = convert(f, row[i] ?? '')
      if (v === undefined) return
      body[name] = v
      if (f.type === 'password') body[name + 'Confirm'] = v
    })
    return body
  }

  const run = async () => {
    cancel.current = false
    const data = rows.slice(1)
    const st = { done: 0, total: data.length, created: 0, errors: [], running: true, cancelled: false, via: '' }
    const update = () => setState({ ...st, errors: [...st.errors] })
    let batchMax = 0
    try {
      const s = await api.getSettings()
      if (s.batch?.enabled) batchMax = Math.max(1, Math.min(s.batch.maxRequests || 50, 100))
    } catch { /* not readable: one by one */ }
    st.via = batchMax ? 'batch' : 'single'
    update()
    const one = async (i) => {
      try {
        await api.createRecord(c.name, bodyOf(data[i]))
        st.created++
      } catch (e) {
        st.errors.push({ row: i + 2, message: api.errorMessage(e) })
      }
      st.done++
      update()
    }
    const oneByOne = async (from, to) => {
      let next = from
      const worker = async () => {
        while (next < to && !cancel.current) await one(next++)
      }
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, to - from) }, worker))
    }
    if (batchMax) {
      for (let at = 0; at < data.length && !cancel.current; at += batchMax) {
        const end = Math.min(at + batchMax, data.length)
        try {
          await api.batchCreate(c.name, data.slice(at, end).map(bodyOf))
          st.created += end - at
          st.done += end - at
          update()
        } catch (e) {
          if (e?.status === 403 || e?.status === 404) { st.via = 'single' } // batch refused: carry on alone
          await oneByOne(at, end)
        }
      }
    } else {
      await oneByOne(0, data.length)
    }
    st.errors.sort((a, b) => a.row - b.row)
    st.running = false
    st.cancelled = cancel.current
    update()
    onDone(st.created)
  }

  const running = state?.running
  const header = rows?.[0] || []
  const mapped = map.filter(Boolean).length
  return (
    <Dialog title={`Import CSV into ${c.name}`} onClose={() => { cancel.current = true; onClose() }}>
      <p class="hint">The first row names the columns; each column fills the field you choose (matched by name). Arrays and objects are JSON; multiple select or relation values may also be comma-separated. Empty cells keep the field's default.</p>
      <Field label="CSV file" error={parseErr}>{(id, desc) => (
        <input id={id} aria-describedby={desc} type="file" accept=".csv,text/csv" disabled={running} onChange={(e) => pick(e.currentTarget.files?.[0] || null)} />
      )}</Field>
      {rows && header.length > 0 && (
        <fieldset>
          <legend>Columns ({rows.length - 1} row{rows.length === 2 ? '' : 's'} in {file?.name})</legend>
          <div class="options">
            {header.map((h, i) => (
              <Field key={i} label={`Field for column ${h || i + 1}`}>{(id) => (
                <select id={id} value={map[i]} disabled={running} onChange={(e) => { const v = e.currentTarget.value; setMap((m) => m.map((x, j) => (j === i ? v : x))) }}>
                  <option value="">(skip)</option>
                  {fields.map((f) => <option key={f.name} value={f.name}>{f.name}</option>)}
                </select>
              )}</Field>
            ))}
          </div>
        </fieldset>
      )}
      {state && (
        <div>
          <Field label="Import progress">{(id) => <progress id={id} max={state.total || 1} value={state.done}>{state.done} of {state.total}</progress>}</Field>
          <p role="status">
            {state.running ? `Importing… ${state.done} of ${state.total} rows` : `${state.cancelled ? 'Cancelled: ' : 'Done: '}${state.created} of ${state.total} rows imported, ${state.errors.length} failed.`}
            {state.via && <span class="muted small"> ({state.via === 'batch' ? 'batch API, a failed chunk retried row by row' : 'one request per row'})</span>}
          </p>
          {state.errors.length > 0 && (
            <>
              <h3 id="import-errors">Rows not imported (row 1 is the header)</h3>
              <ul class="results" aria-labelledby="import-errors">
                {state.errors.map((e) => <li key={e.row}><strong>Row {e.row}:</strong> {e.message}</li>)}
              </ul>
            </>
          )}
        </div>
      )}
      <ErrorText>{rows && mapped === 0 ? 'Map at least one column to a field.' : ''}</ErrorText>
      <div class="row actions">
        {running && <button type="button" onClick={() => { cancel.current = true }}>Cancel import</button>}
        {!state && <button type="button" class="primary" disabled={!rows || rows.length < 2 || mapped === 0} onClick={run}>Import</button>}
        {!running && <button type="button" onClick={onClose}>{state ? 'Close' : 'Cancel'}</button>}
      </div>
    </Dialog>
  )
}
