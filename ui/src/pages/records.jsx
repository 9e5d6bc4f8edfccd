import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import * as api from '../api.js'
import { byName, byId, collections, notify } from '../state.js'
import { Field, Check, Dialog } from '../widgets.jsx'
import { RecordPanel } from './record.jsx'
import { preview, filterWords } from '../schema.js'
import { FilterBox } from '../filterbox.jsx'

const PER_PAGE = [20, 50, 100, 500]

// The export and import code is a chunk of its own, loaded on first use.
let transfer
const loadTransfer = () => (transfer ||= import('./transfer.jsx'))

// shownFields are the fields a table can show (not passwords or the
// hidden system token key).
function shownFields(c) {
  return (c.fields || []).filter((f) => f.type !== 'password' && !(f.system && f.hidden))
}

function loadColumns(c) {
  try {
    const saved = JSON.parse(localStorage.getItem('plinth.columns.' + c.id) || 'null')
    if (Array.isArray(saved)) return saved
  } catch { /* ignore */ }
  return shownFields(c).slice(0, 7).map((f) => f.name)
}

export function Records({ name }) {
  const c = byName.value[name]
  if (!c) return collections.value.length ? <section><h1>Collection not found</h1><p>No collection is named {name}.</p></section> : <p>Loading…</p>
  return <Table c={c} />
}

function Table({ c }) {
  const fields = shownFields(c)
  const hasCreated = fields.some((f) => f.name === 'created')
  const isView = c.type === 'view'
  // Newest first by storage order (-@rowid, as PocketBase's dashboard): on
  // SQLite the table's own order, so no page has to sort every record (by
  // an unindexed created, 0.15–1 s a page at 100,000 records). Views have
  // no row ids: by created when they have it.
  const [page, setPage] = useState(1)
  const [perPage, setPerPage] = useState(50)
  const defaultSort = isView ? (hasCreated ? '-created' : '') : '-@rowid'
  const [sort, setSort] = useState(defaultSort)
  const [filter, setFilter] = useState('')
  const [data, setData] = useState({ items: [], totalItems: 0, totalPages: 1 })
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(true)
  const [columns, setColumns] = useState(() => loadColumns(c))
  const [selected, setSelected] = useState(() => new Set())
  const [panel, setPanel] = useState(null) // {record} or {record: null} for new
  const [confirmBulk, setConfirmBulk] = useState(false)
  const [importing, setImporting] = useState(null) // the ImportDialog component while open
  const [exporting, setExporting] = useState('') // progress text while an export runs
  const exportAbort = useRef(null)
  const seq = useRef(0)
  const relFields = fields.filter((f) => f.type === 'relation' && columns.includes(f.name))

  const load = async () => {
    const n = ++seq.current
    setLoading(true)
    try {
      const res = await api.listRecords(c.name, page, perPage, {
        sort: sort || undefined, filter: filter || undefined,
        expand: relFields.map((f) => f.name).join(',') || undefined,
      })
      if (n !== seq.current) return
      setData(res)
      setError('')
    } catch (e) {
      if (n !== seq.current) return
      setError(api.errorMessage(e))
      setData({ items: [], totalItems: 0, totalPages: 1 })
    } finally {
      if (n === seq.current) setLoading(false)
    }
  }
  const loadRef = useRef(load)
  loadRef.current = load

  // A layout effect, so that the request leaves as the click renders
  // (an effect runs after the next paint: 10–115 ms later on a busy
  // machine, measured at 100,000 records).
  useLayoutEffect(() => { load() }, [c.id, page, perPage, sort, filter, columns.join(',')])

  // Rows change live: updates in place, creates and deletes reload the
  // page (debounced), so paging and totals stay right.
  useEffect(() => {
    let timer
    let unsub
    let dead = false
    api.subscribe(c.name, (e) => {
      if (e.action === 'update') {
        setData((d) => ({ ...d, items: d.items.map((r) => (r.id === e.record.id ? { ...e.record, expand: r.expand } : r)) }))
      } else {
        clearTimeout(timer)
        timer = setTimeout(() => loadRef.current(), 150)
      }
    }).then((fn) => { if (dead) fn(); else unsub = fn }).catch(() => {})
    return () => { dead = true; clearTimeout(timer); unsub?.() }
  }, [c.name])

  // A header cycles ascending, descending, back to the default order; a
  // new order starts again from the first page (as a new filter does).
  const toggleSort = (name) => { setPage(1); setSort(sort === name ? '-' + name : sort === '-' + name ? defaultSort : name) }
  const sortState = (name) => (sort === name ? 'ascending' : sort === '-' + name ? 'descending' : 'none')
  const setCols = (cols) => {
    setColumns(cols)
    localStorage.setItem('plinth.columns.' + c.id, JSON.stringify(cols))
  }
  const visible = fields.filter((f) => columns.includes(f.name) && f.name !== 'id')
  const allOnPage = data.items.length > 0 && data.items.every((r) => selected.has(r.id))

  const bulkDelete = async () => {
    setConfirmBulk(false)
    const ids = [...selected]
    let failed = 0
    for (const id of ids) {
      try { await api.deleteRecord(c.name, id) } catch { failed++ }
    }
    setSelected(new Set())
    notify(failed ? `${ids.length - failed} deleted, ${failed} failed.` : `${ids.length} record${ids.length === 1 ? '' : 's'} deleted.`)
    load()
  }

  // exportAs downloads every record matching the applied filter, in the
  // table's sort order, fetched page by page.
  const exportAs = async (format) => {
    const ctl = new AbortController()
    exportAbort.current = ctl
    setExporting('Exporting…')
    try {
      const m = await loadTransfer()
      const n = await m.exportRecords(c, format, {
        filter, sort, signal: ctl.signal,
        onProgress: (done, total) => setExporting(`Exporting… ${done}${total >= 0 ? ' of ' + total : ''} records`),
      })
      notify(`Exported ${n} record${n === 1 ? '' : 's'} as ${format.toUpperCase()}.`)
    } catch (e) {
      notify(e?.name === 'AbortError' ? 'Export cancelled.' : 'Export failed: ' + api.errorMessage(e))
    } finally {
      exportAbort.current = null
      setExporting('')
    }
  }
  const openImport = async () => {
    try {
      const m = await loadTransfer()
      setImporting(() => m.ImportDialog)
    } catch (e) {
      notify('Import failed to load: ' + api.errorMessage(e))
    }
  }
  const Import = importing

  return (
    <section class="records">
      <header class="page-head">
        <h1>{c.name} <span class="muted small">{c.type} collection</span></h1>
        <div class="row tight">
          <button type="button" disabled={!!exporting} onClick={() => exportAs('csv')}>Export CSV</button>
          <button type="button" disabled={!!exporting} onClick={() => exportAs('json')}>Export JSON</button>
          {!isView && <button type="button" onClick={openImport}>Import CSV</button>}
          <a class="button" href={'#/c/' + encodeURIComponent(c.name) + '/edit'}>Edit collection</a>
          {!isView && <button type="button" class="primary" onClick={() => setPanel({ record: null })}>New record</button>}
        </div>
      </header>
      <div class="toolbar">
        <FilterBox applied={filter} error={error} words={() => filterWords(c, collections.value)}
          validate={(src) => api.listRecords(c.name, 1, 1, { filter: src, skipTotal: true, fields: 'id' })}
          example={'e.g. title ~ "hello" && created > "2026-01-01"; Ctrl+Space suggests fields'}
          onApply={(src) => { setPage(1); setFilter(src) }} />
        <details class="picker">
          <summary>Columns</summary>
          <fieldset>
            <legend class="sr-only">Visible columns</legend>
            {fields.filter((f) => f.name !== 'id').map((f) => (
              <Check key={f.name} label={f.name} checked={columns.includes(f.name)}
                onChange={(v) => setCols(v ? [...columns, f.name] : columns.filter((x) => x !== f.name))} />
            ))}
          </fieldset>
        </details>
      </div>
      {exporting && (
        <div class="bulk row" role="status">
          <span>{exporting}</span>
          <button type="button" onClick={() => exportAbort.current?.abort()}>Cancel export</button>
        </div>
      )}
      {selected.size > 0 && (
        <div class="bulk row" role="region" aria-label="Selection">
          <span>{selected.size} selected</span>
          <button type="button" class="danger" onClick={() => setConfirmBulk(true)}>Delete selected</button>
          <button type="button" onClick={() => setSelected(new Set())}>Clear selection</button>
        </div>
      )}
      <div class="table-wrap">
        <table aria-busy={loading} aria-label={`Records of ${c.name}`}>
          <thead>
            <tr>
              {!isView && <th scope="col" class="narrow"><input type="checkbox" aria-label="Select all on this page" checked={allOnPage}
                onChange={(e) => {
                  const next = new Set(selected)
                  for (const r of data.items) e.currentTarget.checked ? next.add(r.id) : next.delete(r.id)
                  setSelected(next)
                }} /></th>}
              <th scope="col" aria-sort={sortState('id')}><button type="button" class="th" onClick={() => toggleSort('id')}>id {arrow(sortState('id'))}</button></th>
              {visible.map((f) => (
                <th scope="col" key={f.name} aria-sort={sortState(f.name)}>
                  <button type="button" class="th" onClick={() => toggleSort(f.name)}>{f.name} {arrow(sortState(f.name))}</button>
                </th>
              ))}
              <th scope="col"><span class="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((r) => (
              <tr key={r.id} class={selected.has(r.id) ? 'selected' : ''}>
                {!isView && <td><input type="checkbox" aria-label={`Select ${r.id}`} checked={selected.has(r.id)} onChange={(e) => {
                  const next = new Set(selected)
                  e.currentTarget.checked ? next.add(r.id) : next.delete(r.id)
                  setSelected(next)
                }} /></td>}
                <td class="mono small">{r.id}</td>
                {visible.map((f) => <td key={f.name}><Cell f={f} r={r} /></td>)}
                <td><button type="button" class="link" aria-label={`Open ${r.id}`} onClick={() => setPanel({ record: r })}>{isView ? 'View' : 'Edit'}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && data.items.length === 0 && !error && <p class="empty">{filter ? 'No record matches the filter.' : 'No records yet.'}</p>}
      </div>
      <nav class="pager row" aria-label="Pages">
        <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous page</button>
        <span aria-live="polite">Page {data.page || page} of {Math.max(1, data.totalPages)} ({data.totalItems} record{data.totalItems === 1 ? '' : 's'})</span>
        <button type="button" disabled={page >= data.totalPages} onClick={() => setPage(page + 1)}>Next page</button>
        <Field label="Per page">{(id) => (
          <select id={id} value={perPage} onChange={(e) => { setPerPage(Number(e.currentTarget.value)); setPage(1) }}>
            {PER_PAGE.map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        )}</Field>
      </nav>
      {panel && (
        <RecordPanel c={c} record={panel.record} onClose={() => setPanel(null)}
          onSaved={(saved, deleted) => {
            setPanel(null)
            notify(deleted ? 'Record deleted.' : `Record ${saved.id} saved.`)
            load()
          }} />
      )}
      {Import && <Import c={c} onClose={() => setImporting(null)} onDone={(n) => { if (n) load() }} />}
      {confirmBulk && (
        <Dialog title={`Delete ${selected.size} record${selected.size === 1 ? '' : 's'}?`} onClose={() => setConfirmBulk(false)}>
          <p>This cannot be undone.</p>
          <div class="row actions">
            <button type="button" class="danger" onClick={bulkDelete}>Delete</button>
            <button type="button" onClick={() => setConfirmBulk(false)}>Cancel</button>
          </div>
        </Dialog>
      )}
    </section>
  )
}

function arrow(state) {
  return state === 'ascending' ? '↑' : state === 'descending' ? '↓' : ''
}

const IMAGE = /\.(png|jpe?g|gif|webp|avif|bmp|svg)$/i

function Cell({ f, r }) {
  const v = r[f.name]
  switch (f.type) {
    case 'bool': return v ? 'yes' : 'no'
    case 'file': {
      const names = Array.isArray(v) ? v : v ? [v] : []
      return (
        <span class="files">
          {names.map((n) => (IMAGE.test(n) && !f.protected
            ? <img key={n} src={api.fileURL(r, n, { thumb: '100x100' })} alt={n} loading="lazy" width="32" height="32" />
            : <span key={n} class="chip">{n}</span>))}
        </span>
      )
    }
    case 'relation': {
      const ids = Array.isArray(v) ? v : v ? [v] : []
      const exp = r.expand?.[f.name]
      const list = Array.isArray(exp) ? exp : exp ? [exp] : []
      const target = byId.value[f.collectionId]
      return <span class="chips">{ids.map((id) => <span key={id} class="chip">{preview(list.find((x) => x.id === id), target) || id}</span>)}</span>
    }
    case 'json': return <span class="mono small clip">{v === null || v === undefined ? '' : JSON.stringify(v)}</span>
    case 'select': return Array.isArray(v) ? v.join(', ') : v
    case 'geoPoint': return v ? `${v.lon}, ${v.lat}` : ''
    case 'editor': return <span class="clip">{String(v || '').replace(/<[^>]*>/g, ' ').slice(0, 80)}</span>
    default: return <span class="clip">{String(v ?? '')}</span>
  }
}
