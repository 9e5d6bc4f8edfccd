import { useEffect, useRef, useState } from 'preact/hooks'
import * as api from '../api.js'
import { parse, gauge, byLabel, requests, latency, quantile } from '../prom.js'
import { Field, Check, ErrorText } from '../widgets.jsx'

let chartModule
const loadChart = () => (chartModule ||= import('../chart.js'))

const EVERY = 5000 // ms between samples
const FIRST = 1000 // ms from the first sample to the second, so rates show soon
const KEEP = 30 * 60 // seconds of history kept
const GAP = 20 // seconds between samples beyond which a line breaks

// The history lives in this module, not in the page: it outlasts a visit
// to another page (a gap shows where no sample was taken) and is dropped
// on sign-out. The server keeps no time series; each point is computed
// from two successive samples of GET /metrics.
const store = { prev: null, prevT: 0, latest: null, points: [], span: 5 * 60 }
api.onAuthChange(() => { if (!api.isSignedIn()) Object.assign(store, { prev: null, prevT: 0, latest: null, points: [] }) })

const TRANSPORTS = { sse: 'SSE', websocket: 'WebSocket', '': 'Clients' }
const COLORS = ['#0b57d0', '#b3261e', '#137333', '#a35200', '#7b1fa2', '#4a5260']

// gauges reads the per-pool connection counts and per-transport realtime
// clients of a sample, named as the chart series are.
function gauges(cur) {
  const db = {}
  const inUse = byLabel(cur, 'plinth_db_connections_in_use', 'pool')
  const open = byLabel(cur, 'plinth_db_connections_open', 'pool')
  const pools = [...new Set([...inUse.keys(), ...open.keys()])].map((pool) => ({ pool, inUse: inUse.get(pool), open: open.get(pool) }))
  for (const p of pools) {
    const of = pools.length > 1 ? ` (${p.pool})` : ''
    db['In use' + of] = p.inUse ?? null
    db['Open' + of] = p.open ?? null
  }
  const rt = {}
  for (const [tr, n] of byLabel(cur, 'plinth_realtime_clients', 'transport')) rt[TRANSPORTS[tr] ?? tr] = n
  return { db, pools, rt }
}

// sample reads /metrics once and adds a point to the history.
async function sample() {
  const cur = parse(await api.metricsText())
  const t = Date.now() / 1000
  const p = { t, ...gauges(cur) }
  const prev = store.prev && t - store.prevT <= GAP ? store.prev : null
  if (store.prev && !prev) store.points.push({ t: (store.prevT + t) / 2 }) // a gap
  if (prev) {
    const dt = t - store.prevT
    const r = requests(prev, cur)
    const b = latency(prev, cur)
    const ms = (q) => { const v = quantile(q, b); return v == null ? null : v * 1000 }
    Object.assign(p, {
      dt, n: r.all, rps: r.all / dt, e4: r.e4 == null ? null : r.e4 / dt, e5: r.e5 == null ? null : r.e5 / dt,
      observed: b.at(-1)?.count || 0, p50: ms(0.5), p95: ms(0.95), p99: ms(0.99),
    })
  }
  Object.assign(store, { prev: cur, prevT: t, latest: cur })
  store.points.push(p)
  while (store.points.length && store.points[0].t < t - KEEP) store.points.shift()
}

// fmt formats a figure with about three significant digits.
function fmt(v) {
  if (v == null || !Number.isFinite(v)) return '–'
  const a = Math.abs(v)
  if (Number.isInteger(v)) return v.toLocaleString('en')
  if (a >= 100) return Math.round(v).toLocaleString('en')
  return a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(2)
}
const mib = (b) => (b / 1048576).toFixed(1) + ' MiB'
const clock = (t) => new Date(t * 1000).toISOString().slice(11, 19)
const spanName = (s) => s / 60 + ' minutes'

// Metrics charts the server's Prometheus figures, sampled every 5 s while
// the page is open and the tab visible: request rate and errors, latency
// percentiles, database connections, realtime clients, and a table of
// current values.
export function Metrics() {
  const [, setVersion] = useState(0)
  const [live, setLive] = useState(true)
  const [span, setSpan] = useState(store.span)
  const [error, setError] = useState('')
  const busy = useRef(false)

  const take = async () => {
    if (busy.current) return 'busy'
    busy.current = true
    try {
      await sample()
      setError('')
      return 'ok'
    } catch (e) {
      setError('Could not read /metrics: ' + api.errorMessage(e))
      return 'failed'
    } finally {
      busy.current = false
      setVersion((v) => v + 1)
    }
  }
  const takeRef = useRef(take)
  takeRef.current = take

  // Sampling: at once (unless the last sample is recent), a second sample
  // a second later, then every 5 s; paused while the tab is hidden. The
  // "Sample now" button takes one more in between.
  useEffect(() => {
    if (!live) return
    let timer, dead = false
    const schedule = (ms) => { clearTimeout(timer); timer = setTimeout(run, Math.max(0, ms)) }
    const run = async () => {
      if (dead || document.hidden) return
      const got = await takeRef.current() // 'busy' when "Sample now" is under way
      if (!dead) schedule(got === 'ok' && store.points.at(-1)?.rps == null ? FIRST : EVERY)
    }
    const onVisible = () => { if (!document.hidden) schedule(EVERY - (Date.now() - store.prevT * 1000)) }
    schedule(store.prevT ? EVERY - (Date.now() - store.prevT * 1000) : 0)
    document.addEventListener('visibilitychange', onVisible)
    return () => { dead = true; clearTimeout(timer); document.removeEventListener('visibilitychange', onVisible) }
  }, [live])

  const latestT = store.points.at(-1)?.t
  const pts = latestT ? store.points.filter((p) => p.t >= latestT - span) : []
  const x = pts.map((p) => p.t)
  const col = (f) => pts.map((p) => f(p) ?? null)
  const rated = pts.filter((p) => p.rps != null)
  const last = rated.at(-1)
  const now = store.points.at(-1)
  const version = store.points.length + ':' + (latestT || 0) + ':' + span
  const collecting = 'Collecting… rates need two samples.'

  const dbNames = Object.keys(now?.db || {})
  const rtNames = Object.keys(now?.rt || {})
  const peak = rated.reduce((a, p) => Math.max(a, p.rps), 0)

  return (
    <section class="metrics">
      <header class="page-head">
        <h1>Metrics</h1>
        <div class="row tight">
          <Check label="Live (sample every 5 s)" checked={live} onChange={setLive} />
          <button type="button" onClick={() => take()}>Sample now</button>
          <Field label="Time span" class="inline">{(id) => (
            <select id={id} value={span} onChange={(e) => { const s = Number(e.currentTarget.value); store.span = s; setSpan(s) }}>
              {[5, 15, 30].map((m) => <option key={m} value={m * 60}>Last {m} minutes</option>)}
            </select>
          )}</Field>
        </div>
      </header>
      <p class="muted small">
        From the server's <code>/metrics</code>, sampled while this page is open and visible; the history (up to 30 minutes) is kept in this tab only.
        {' '}{now ? `Last sample ${clock(now.t)} UTC.` : 'Collecting the first sample…'}{!live && ' Paused.'}
      </p>
      <ErrorText>{error}</ErrorText>
      <div class="charts">
        <TimeChart id="m-requests" title="Requests per second" note="(all routes; this page adds one request per sample)"
          label="Chart of requests per second, and of those answered with 4xx and 5xx statuses" unit="requests/s" fmt={fmt}
          x={x} span={span} version={version} series={[
            { label: 'Requests', stroke: COLORS[0], data: col((p) => p.rps) },
            ...(last?.e4 === null ? [] : [
              { label: '4xx', stroke: COLORS[3], dash: [6, 4], data: col((p) => p.e4) },
              { label: '5xx', stroke: COLORS[1], dash: [2, 3], data: col((p) => p.e5) },
            ]),
          ]}
          summary={!last ? collecting
            : `Last ${fmt(last.dt)} s: ${fmt(last.rps)} requests/s` + (last.e4 == null ? '' : `, ${fmt(last.e4)} 4xx/s, ${fmt(last.e5)} 5xx/s`) +
              `. Peak over the ${spanName(span)}: ${fmt(peak)} requests/s.`} />
        <TimeChart id="m-latency" title="Request latency" note="(milliseconds, estimated from the histogram's buckets; realtime streams excluded)"
          label="Chart of the 50th, 95th and 99th percentile of request latency per interval" unit="ms" fmt={(v) => fmt(v) + ' ms'}
          x={x} span={span} version={version} series={[
            { label: 'p50', stroke: COLORS[0], data: col((p) => p.p50) },
            { label: 'p95', stroke: COLORS[3], dash: [6, 4], data: col((p) => p.p95) },
            { label: 'p99', stroke: COLORS[1], dash: [2, 3], data: col((p) => p.p99) },
          ]}
          summary={!last ? collecting : !last.observed ? 'No request finished in the last interval.'
            : `Last ${fmt(last.dt)} s (${last.observed} request${last.observed === 1 ? '' : 's'}): p50 ${fmt(last.p50)} ms, p95 ${fmt(last.p95)} ms, p99 ${fmt(last.p99)} ms.`} />
        <TimeChart id="m-db" title="Database connections" note="(in use and open, per pool)"
          label="Chart of database connections in use and open, per pool" unit="connections" fmt={fmt} whole
          x={x} span={span} version={version} series={dbNames.map((name, i) => ({
            label: name, stroke: COLORS[i % COLORS.length], dash: i % 2 ? [6, 4] : undefined, data: col((p) => p.db?.[name]),
          }))}
          summary={!now ? 'Collecting…' : dbNames.length === 0 ? 'The server reports no connection pool.'
            : 'Now: ' + now.pools.map((p) => (now.pools.length > 1 ? p.pool + ' pool ' : '') + `${fmt(p.inUse)} in use of ${fmt(p.open)} open`).join('; ') + '.'} />
        <TimeChart id="m-realtime" title="Realtime clients" note="(connected, per transport)"
          label="Chart of connected realtime clients per transport" unit="clients" fmt={fmt} whole
          x={x} span={span} version={version} series={rtNames.map((name, i) => ({
            label: name, stroke: COLORS[i % COLORS.length], dash: i % 2 ? [6, 4] : undefined, data: col((p) => p.rt?.[name]),
          }))}
          summary={!now ? 'Collecting…' : rtNames.length === 0 ? 'The server reports no realtime clients.'
            : 'Now: ' + rtNames.map((n) => `${fmt(now.rt[n])} ${n}`).join(', ') + '.'} />
      </div>
      <Current snap={store.latest} />
    </section>
  )
}

// Current is the table of the latest sample's figures worth a glance.
function Current({ snap }) {
  const rows = []
  if (snap) {
    const add = (name, metric, value, show = fmt) => { if (value !== undefined) rows.push({ name, metric, value: show(value) }) }
    add('Goroutines', 'go_goroutines', gauge(snap, 'go_goroutines'))
    add('Resident memory', 'process_resident_memory_bytes', gauge(snap, 'process_resident_memory_bytes'), mib)
    add('Realtime clients', 'plinth_realtime_clients', gauge(snap, 'plinth_realtime_clients'))
    add('Realtime subscriptions', 'plinth_realtime_subscriptions', gauge(snap, 'plinth_realtime_subscriptions'))
    for (const [state, n] of byLabel(snap, 'plinth_jobs', 'state')) add('Jobs ' + state, `plinth_jobs{state="${state}"}`, n)
    for (const [pool, n] of byLabel(snap, 'plinth_db_wait_count_total', 'pool')) {
      add('Waits for a database connection' + (pool ? ` (${pool})` : ''), `plinth_db_wait_count_total{pool="${pool}"}`, n)
    }
    add('Process started', 'process_start_time_seconds', gauge(snap, 'process_start_time_seconds'),
      (t) => new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ') + ' UTC')
  }
  return (
    <section class="current" aria-labelledby="m-current-title">
      <h2 id="m-current-title">Current values</h2>
      {!snap ? <p class="muted">Collecting…</p> : (
        <div class="table-wrap fit">
          <table aria-labelledby="m-current-title">
            <thead><tr><th scope="col">Figure</th><th scope="col">Value</th><th scope="col">Metric</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.metric}><th scope="row">{r.name}</th><td class="num">{r.value}</td><td class="small mono">{r.metric}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}

// TimeChart is one figure: a caption, a uPlot chart of the series over
// time (drawn once the chart chunk has loaded and a sample exists), and a
// one-line summary in words that also serves as its description.
function TimeChart({ id, title, note, label, unit, fmt, whole, x, series, span, version, summary }) {
  const host = useRef(null)
  const plot = useRef(null)
  const shape = useRef('')
  const spanRef = useRef(span)
  spanRef.current = span
  const [error, setError] = useState('')
  useEffect(() => {
    if (!x.length) return
    let dead = false
    loadChart().then((chart) => {
      if (dead || !host.current) return
      setError('')
      const data = [x, ...series.map((s) => s.data)]
      const sh = series.map((s) => s.label).join('\n')
      if (plot.current && shape.current === sh) { plot.current.setData(data); return }
      // The series changed (a pool or transport appeared): draw anew.
      plot.current?.destroy()
      shape.current = sh
      plot.current = chart.timeline(host.current, {
        x, series, unit, fmt, whole, span: () => spanRef.current, width: Math.max(260, host.current.clientWidth),
      })
    }).catch((e) => { if (!dead) setError(api.errorMessage(e)) })
    return () => { dead = true }
  }, [version])
  useEffect(() => {
    const ro = new ResizeObserver(() => {
      if (plot.current && host.current) plot.current.setSize({ width: Math.max(260, host.current.clientWidth), height: 200 })
    })
    if (host.current) ro.observe(host.current)
    return () => { ro.disconnect(); plot.current?.destroy(); plot.current = null }
  }, [])
  return (
    <figure class="chart card" aria-labelledby={id + '-title'} aria-describedby={id + '-sum'}>
      <figcaption id={id + '-title'}><strong>{title}</strong> <span class="small muted">{note}</span></figcaption>
      <div ref={host} class="chart-host" role="img" aria-label={label} />
      <p id={id + '-sum'} class="small muted">{summary}</p>
      <ErrorText>{error}</ErrorText>
    </figure>
  )
}
