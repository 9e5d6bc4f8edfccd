import { Fragment } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import * as api from '../api.js'
import { Field, Check, ErrorText } from '../widgets.jsx'
import { FilterBox } from '../filterbox.jsx'

const LEVELS = { '-4': 'DEBUG', 0: 'INFO', 4: 'WARN', 8: 'ERROR' }
const levelName = (l) => LEVELS[l] ?? String(l)

// What a filter over the log may name (see logs.ListParams).
const LOG_WORDS = ['id', 'created', 'level', 'message', 'data.type', 'data.status', 'data.method', 'data.url',
  'data.execTime', 'data.auth', 'data.authId', 'data.userIP', 'data.remoteIP', 'data.referer', 'data.userAgent',
  'data.error', '@now', '@todayStart', '@todayEnd', '@hour', '@day']

// and joins filters with &&, each in parentheses.
const and = (...fs) => fs.filter(Boolean).map((f) => '(' + f + ')').join(' && ')

let chartModule
const loadChart = () => (chartModule ||= import('../chart.js'))

// Logs is the request and application log: a requests-per-hour chart, a
// filtered, paged table that refreshes itself, and the detail of an entry.
export function Logs() {
  const [filter, setFilter] = useState('')
  const [minLevel, setMinLevel] = useState('')
  const [page, setPage] = useState(1)
  const [perPage, setPerPage] = useState(50)
  const [data, setData] = useState({ items: [], totalItems: 0, totalPages: 1, page: 1 })
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(true)
  const [live, setLive] = useState(true)
  const [open, setOpen] = useState(null) // id of the entry in the panel
  const seq = useRef(0)
  const full = and(filter, minLevel !== '' && 'level >= ' + minLevel)

  const load = async () => {
    const n = ++seq.current
    try {
      const res = await api.listLogs(page, perPage, { filter: full || undefined })
      if (n !== seq.current) return
      setData(res)
      setError('')
    } catch (e) {
      if (n !== seq.current) return
      setError(api.errorMessage(e))
      setData({ items: [], totalItems: 0, totalPages: 1, page: 1 })
    } finally {
      if (n === seq.current) setLoading(false)
    }
  }
  const loadRef = useRef(load)
  loadRef.current = load
  useEffect(() => { setLoading(true); load() }, [page, perPage, full])
  // Live: the first page refreshes every 5 s (the log has no realtime
  // feed; polling also shows the dashboard's own requests, as they are).
  useEffect(() => {
    if (!live || page !== 1) return
    const t = setInterval(() => { if (!document.hidden) loadRef.current() }, 5000)
    return () => clearInterval(t)
  }, [live, page])

  return (
    <section class="logs">
      <header class="page-head">
        <h1>Logs</h1>
        <div class="row tight">
          <Check label="Live (refresh every 5 s)" checked={live} onChange={setLive} />
          <button type="button" onClick={() => load()}>Refresh</button>
        </div>
      </header>
      <Chart filter={full} refresh={data} />
      <div class="toolbar">
        <FilterBox applied={filter} error={error} words={() => LOG_WORDS}
          validate={(src) => api.listLogs(1, 1, { filter: src, skipTotal: true })}
          example={'e.g. data.status >= 400 && data.url ~ "/api/collections"'}
          onApply={(src) => { setPage(1); setFilter(src) }} />
        <Field label="Level">{(id) => (
          <select id={id} value={minLevel} onChange={(e) => { setPage(1); setMinLevel(e.currentTarget.value) }}>
            <option value="">All</option>
            <option value="4">Warnings and errors</option>
            <option value="8">Errors</option>
          </select>
        )}</Field>
      </div>
      <div class="table-wrap">
        <table aria-busy={loading} aria-label="Log entries">
          <thead>
            <tr><th scope="col">Time (UTC)</th><th scope="col">Level</th><th scope="col">Message</th><th scope="col">Status</th>
              <th scope="col">Time taken</th><th scope="col">Auth</th><th scope="col"><span class="sr-only">Actions</span></th></tr>
          </thead>
          <tbody>
            {data.items.map((e) => (
              <tr key={e.id} class={open === e.id ? 'selected' : ''}>
                <td class="small mono nowrap">{e.created}</td>
                <td><span class={'level level-' + e.level}>{levelName(e.level)}</span></td>
                <td><span class="clip wide">{e.data?.url ? e.data.method + ' ' + e.data.url : e.message}</span></td>
                <td>{e.data?.status ?? ''}</td>
                <td class="nowrap">{e.data?.execTime != null ? e.data.execTime + ' ms' : ''}</td>
                <td>{e.data?.auth || (e.data?.type === 'request' ? 'guest' : '')}</td>
                <td><button type="button" class="link" aria-label={`Details of ${e.id}`} onClick={() => setOpen(e.id)}>Details</button></td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && data.items.length === 0 && !error && <p class="empty">{full ? 'No entry matches the filter.' : 'No log entries yet.'}</p>}
      </div>
      <nav class="pager row" aria-label="Pages">
        <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous page</button>
        <span aria-live="polite">Page {data.page || page} of {Math.max(1, data.totalPages)} ({data.totalItems} entr{data.totalItems === 1 ? 'y' : 'ies'})</span>
        <button type="button" disabled={page >= data.totalPages} onClick={() => setPage(page + 1)}>Next page</button>
        <Field label="Per page">{(id) => (
          <select id={id} value={perPage} onChange={(e) => { setPerPage(Number(e.currentTarget.value)); setPage(1) }}>
            {[20, 50, 100, 500].map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        )}</Field>
      </nav>
      {open && <Detail id={open} onClose={() => setOpen(null)} />}
    </section>
  )
}

// Detail shows one entry, fetched by id (GET /api/logs/{id}).
function Detail({ id, onClose }) {
  const [e, setE] = useState(null)
  const [error, setError] = useState('')
  const panel = useRef(null)
  useEffect(() => {
    let dead = false
    setE(null)
    api.getLog(id).then((x) => { if (!dead) { setE(x); setError('') } }, (err) => { if (!dead) setError(api.errorMessage(err)) })
    return () => { dead = true }
  }, [id])
  useEffect(() => {
    const opener = document.activeElement
    panel.current?.querySelector('button')?.focus()
    const onKey = (ev) => { if (ev.key === 'Escape') onClose() }
    addEventListener('keydown', onKey)
    return () => { removeEventListener('keydown', onKey); if (opener?.isConnected) opener.focus() }
  }, [])
  return (
    <aside class="panel" ref={panel} aria-labelledby="log-detail-title">
      <header class="page-head">
        <h2 id="log-detail-title">Log entry</h2>
        <button type="button" onClick={onClose}>Close</button>
      </header>
      <ErrorText>{error}</ErrorText>
      {!e && !error && <p>Loading…</p>}
      {e && (
        <>
          <dl class="kv">
            <dt>id</dt><dd class="mono">{e.id}</dd>
            <dt>Time (UTC)</dt><dd class="mono">{e.created}</dd>
            <dt>Level</dt><dd>{levelName(e.level)} ({e.level})</dd>
            <dt>Message</dt><dd>{e.message}</dd>
            {Object.entries(e.data || {}).map(([k, v]) => (
              <Fragment key={k}><dt>{k}</dt><dd class="mono">{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd></Fragment>
            ))}
          </dl>
          <h3>As JSON</h3>
          <pre class="mail">{JSON.stringify(e, null, 2)}</pre>
        </>
      )}
    </aside>
  )
}

// hours turns the server's hourly counts into a dense series (missing
// hours count 0) from the first hour with entries to the current hour.
function hours(stats, errs) {
  const parse = (d) => Date.parse(d.replace(' ', 'T')) / 1000
  const count = new Map(stats.map((s) => [parse(s.date), s.total]))
  const errCount = new Map(errs.map((s) => [parse(s.date), s.total]))
  const now = Math.floor(Date.now() / 3600000) * 3600
  // At least the last 24 hours, so that the axis reads as hours.
  const first = Math.min(stats.length ? parse(stats[0].date) : now, now - 23 * 3600)
  const x = []
  // At most two weeks of hours, the latest ones.
  for (let h = Math.max(first, now - 14 * 24 * 3600); h <= Math.max(now, parse(stats.at(-1)?.date || '1970-01-01 00:00:00')); h += 3600) x.push(h)
  return { x, total: x.map((h) => count.get(h) || 0), errors: x.map((h) => errCount.get(h) || 0) }
}

// Chart draws requests (all entries) and errors (level ≥ warn) per hour
// with uPlot, for the current filter, redrawn when the table refreshes.
function Chart({ filter, refresh }) {
  const host = useRef(null)
  const plot = useRef(null)
  const [error, setError] = useState('')
  const [sum, setSum] = useState(null)
  useEffect(() => {
    let dead = false
    Promise.all([api.logStats(filter), api.logStats(and(filter, 'level >= 4')), loadChart()]).then(([all, errs, chart]) => {
      if (dead || !host.current) return
      const h = hours(all, errs)
      setSum({ total: h.total.reduce((a, b) => a + b, 0), errors: h.errors.reduce((a, b) => a + b, 0), hours: h.x.length })
      setError('')
      const data = [h.x, h.total, h.errors]
      if (plot.current) { plot.current.setData(data); return }
      plot.current = chart.hourly(host.current, {
        x: h.x, width: Math.max(300, host.current.clientWidth),
        series: [
          { label: 'Entries', data: h.total, stroke: '#0b57d0', fill: 'rgba(11,87,208,.12)' },
          { label: 'Warnings and errors', data: h.errors, stroke: '#b3261e' },
        ],
      })
    }).catch((e) => { if (!dead) setError(api.errorMessage(e)) })
    return () => { dead = true }
  }, [filter, refresh])
  useEffect(() => {
    const ro = new ResizeObserver(() => {
      if (plot.current && host.current) plot.current.setSize({ width: Math.max(300, host.current.clientWidth), height: 220 })
    })
    if (host.current) ro.observe(host.current)
    return () => { ro.disconnect(); plot.current?.destroy(); plot.current = null }
  }, [])
  return (
    <figure class="chart card" aria-labelledby="log-chart-title" aria-describedby="log-chart-sum">
      <figcaption id="log-chart-title"><strong>Log entries per hour</strong> (UTC, for the filter below)</figcaption>
      <div ref={host} class="chart-host" role="img" aria-label="Chart of log entries and of warnings and errors per hour" />
      <p id="log-chart-sum" class="small muted">{sum ? `${sum.total} entries, ${sum.errors} warnings and errors over ${sum.hours} hour${sum.hours === 1 ? '' : 's'}.` : 'Loading…'}</p>
      <ErrorText>{error}</ErrorText>
    </figure>
  )
}
