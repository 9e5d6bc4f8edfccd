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
