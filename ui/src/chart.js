// The uPlot setup, in a chunk of its own (see logs.jsx): loaded when a
// chart first appears, so the first page load stays small. uPlot draws
// on a canvas and sizes its elements through the CSSOM, which the strict
// CSP allows (only style elements and attributes in markup need a nonce).
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

// hourly draws series of hourly counts: x in Unix seconds, one array of
// counts per series ({label, stroke, fill}).
export function hourly(parent, { x, series, width, height = 220 }) {
  const opts = {
    width, height,
    scales: { x: { time: true } },
    axes: [{}, { label: 'per hour', size: 60 }],
    series: [{ label: 'Hour (UTC)', value: (u, v) => (v == null ? '' : new Date(v * 1000).toISOString().slice(0, 13).replace('T', ' ') + ':00') },
      ...series.map((s) => ({ label: s.label, stroke: s.stroke, fill: s.fill, width: 2, points: { show: x.length < 60 } }))],
    // Times in UTC, like every date Plinth stores.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
  }
  return new uPlot(opts, [x, ...series.map((s) => s.data)], parent)
}

const clock = (v) => (v == null ? '' : new Date(v * 1000).toISOString().slice(11, 19))

// timeline draws series sampled every few seconds: x in Unix seconds
// (null values leave a gap), the x axis spanning the last span() seconds
// up to the latest sample (and a little past it, so that the latest point
// shows), the y axis from 0 (whole numbers only when whole). Each series
// is {label, stroke, dash?}; fmt formats a value for the legend, which
// shows the latest sample unless the cursor points at another.
export function timeline(parent, { x, series, width, height = 200, unit, fmt, span, whole }) {
  // Points mark the samples while they are few enough to tell apart (a
  // lone sample would otherwise not show at all).
  const dots = (u, si, i0, i1) => i1 - i0 <= u.bbox.width / (8 * devicePixelRatio)
  const latest = (u) => { if (u.cursor.idx == null && u.data[0].length) u.setLegend({ idx: u.data[0].length - 1 }, false) }
  const opts = {
    width, height,
    scales: {
      x: { time: true, range: (u, min, max) => [Math.min(min, max - span()), max + span() / 50] },
      y: { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] },
    },
    axes: [
      { values: (u, vals) => vals.map((v) => clock(v).slice(0, vals[1] - vals[0] < 60 ? 8 : 5)) },
      { label: unit, size: 60, values: (u, vals) => vals.map((v) => String(+v.toPrecision(3))), incrs: whole ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 1e4, 2e4, 5e4, 1e5] : undefined },
    ],
    series: [{ label: 'Time (UTC)', value: (u, v) => clock(v) },
      ...series.map((s) => ({ label: s.label, stroke: s.stroke, dash: s.dash, width: 2, value: (u, v) => (v == null ? '–' : fmt(v)), points: { show: dots } }))],
    hooks: { setCursor: [latest], setData: [latest] },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
  }
  return new uPlot(opts, [x, ...series.map((s) => s.data)], parent)
}
