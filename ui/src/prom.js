// Reading GET /metrics (the Prometheus text exposition format) and
// turning two samples of it into rates and latency percentiles for the
// Metrics page. Pure functions, no DOM.

// number reads a sample value: a float, or +Inf, -Inf, NaN.
export function number(s) {
  if (s === '+Inf' || s === 'Inf') return Infinity
  if (s === '-Inf') return -Infinity
  if (s === 'NaN') return NaN
  return s === '' ? NaN : Number(s)
}

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y
const LABEL = /[a-zA-Z_][a-zA-Z0-9_]*/y
const ESCAPES = { '\\': '\\', '"': '"', n: '\n' }

// parse returns the samples of a text exposition as a Map from metric
// name to [{labels, value}]. Comment lines (# HELP, # TYPE) and lines it
// cannot read are skipped; a timestamp after the value is ignored.
export function parse(text) {
  const out = new Map()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line[0] === '#') continue
    NAME.lastIndex = 0
    const m = NAME.exec(line)
    if (!m) continue
    let i = m[0].length
    const labels = {}
    if (line[i] === '{') {
      i = readLabels(line, i + 1, labels)
      if (i < 0) continue
    }
    const rest = line.slice(i).trim().split(/\s+/)
    if (!rest[0]) continue
    const value = number(rest[0])
    if (Number.isNaN(value) && rest[0] !== 'NaN') continue
    let list = out.get(m[0])
    if (!list) out.set(m[0], (list = []))
    list.push({ labels, value })
  }
  return out
}

// readLabels reads name="value" pairs from line[i] on, up to and past the
// closing brace, into labels; it returns the index after the brace, or -1
// if the set is malformed.
function readLabels(line, i, labels) {
  const skip = () => { while (line[i] === ' ' || line[i] === '\t') i++ }
  for (;;) {
    skip()
    if (line[i] === '}') return i + 1
    LABEL.lastIndex = i
    const m = LABEL.exec(line)
    if (!m) return -1
    i += m[0].length
    skip()
    if (line[i++] !== '=') return -1
    skip()
    if (line[i++] !== '"') return -1
    let v = ''
    for (;;) {
      const c = line[i++]
      if (c === undefined) return -1
      if (c === '"') break
      if (c === '\\') {
        const e = line[i++]
        v += ESCAPES[e] ?? '\\' + (e ?? '')
      } else v += c
    }
    labels[m[0]] = v
    skip()
    if (line[i] === ',') i++
    else if (line[i] !== '}') return -1
  }
}

// key names a label set, the same whatever the order of the labels.
const key = (labels, without) => Object.keys(labels).filter((k) => k !== without).sort()
  .map((k) => k + '=' + JSON.stringify(labels[k])).join(',')

// delta is how much a counter grew between two samples; a counter that
// went down was reset (the server restarted) and counts from zero.
const delta = (before = 0, now) => (now >= before ? now - before : now)

// gauge sums a metric's samples whose labels pass keep (all by default);
// undefined when the metric is absent.
export function gauge(snap, name, keep = () => true) {
  const list = snap.get(name)?.filter((s) => keep(s.labels))
  return list?.length ? list.reduce((a, s) => a + s.value, 0) : undefined
}

// byLabel maps each value of a label to the sum of the metric's samples
// having it, in the order they appear.
export function byLabel(snap, name, label) {
  const out = new Map()
  for (const s of snap.get(name) || []) {
    const v = s.labels[label] ?? ''
    out.set(v, (out.get(v) || 0) + s.value)
  }
  return out
}

// requests sums the growth of plinth_http_requests_total between two
// samples: all requests, and those answered 4xx and 5xx (null when the
// counter has no status label).
export function requests(prev, cur) {
  const before = new Map((prev.get('plinth_http_requests_total') || []).map((s) => [key(s.labels), s.value]))
  let all = 0, e4 = 0, e5 = 0, hasStatus = false
  for (const s of cur.get('plinth_http_requests_total') || []) {
    const d = delta(before.get(key(s.labels)), s.value)
    all += d
    const st = s.labels.status
    if (st !== undefined) {
      hasStatus = true
      if (st[0] === '4') e4 += d
      else if (st[0] === '5') e5 += d
    }
  }
  return { all, e4: hasStatus ? e4 : null, e5: hasStatus ? e5 : null }
}

// latency merges the growth of the request-duration histogram's buckets
// (all routes and statuses) between two samples: [{le, count}] by upper
// bound, counts cumulative, the last bound +Inf.
export function latency(prev, cur, name = 'plinth_http_request_duration_seconds_bucket') {
  const before = new Map((prev.get(name) || []).map((s) => [key(s.labels), s.value]))
  const sums = new Map()
  for (const s of cur.get(name) || []) {
    const le = number(s.labels.le ?? '')
    if (Number.isNaN(le)) continue
    sums.set(le, (sums.get(le) || 0) + delta(before.get(key(s.labels)), s.value))
  }
  return [...sums].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le)
}

// quantile estimates the q-quantile (0 < q < 1) of cumulative buckets,
// interpolating linearly inside the bucket the rank falls in (the first
// bucket starting at 0). A rank in the +Inf bucket gives the highest
// finite bound. null when the buckets are empty.
export function quantile(q, buckets) {
  const total = buckets.at(-1)?.count || 0
  if (total <= 0) return null
  const rank = q * total
  let lower = 0, below = 0
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lower
      const inside = b.count - below
      return inside > 0 ? lower + (b.le - lower) * (rank - below) / inside : lower
    }
    lower = b.le
    below = b.count
  }
  return lower
}
