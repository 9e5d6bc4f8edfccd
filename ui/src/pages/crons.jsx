// Crons: the scheduled tasks, each of which can be run now, and the most
// recent jobs of the queue (read only). A chunk of its own, loaded on the
// first visit.
import { useEffect, useState } from 'preact/hooks'
import * as api from '../api.js'
import { notify } from '../state.js'
import { ErrorText } from '../widgets.jsx'
import { utc } from '../format.js'

export function Crons() {
  const [crons, setCrons] = useState(null)
  const [error, setError] = useState('')
  const [running, setRunning] = useState('')
  const [jobsGen, setJobsGen] = useState(0)
  useEffect(() => { api.listCrons().then(setCrons, (e) => setError(api.errorMessage(e))) }, [])
  const run = async (id) => {
    setRunning(id)
    setError('')
    try {
      await api.runCron(id)
      notify(`Cron ${id} queued to run now.`)
      setJobsGen((g) => g + 1)
    } catch (e) {
      setError(api.errorMessage(e))
    } finally {
      setRunning('')
    }
  }
  return (
    <section class="crons">
      <h1>Crons</h1>
      <p class="hint">Tasks run on a schedule by the job queue (once per tick across all instances). <strong>Run now</strong> queues one run at once, outside the schedule.</p>
      <ErrorText>{error}</ErrorText>
      <div class="table-wrap fit">
        <table aria-label="Crons" aria-busy={crons === null}>
          <thead><tr><th scope="col">Id</th><th scope="col">Expression</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {(crons || []).map((c) => (
              <tr key={c.id}>
                <td class="mono">{c.id}</td>
                <td class="mono">{c.expression}</td>
                <td><button type="button" class="link" aria-label={`Run ${c.id} now`} disabled={running === c.id} onClick={() => run(c.id)}>Run now</button></td>
              </tr>
            ))}
          </tbody>
        </table>
        {crons && crons.length === 0 && <p class="empty">No crons.</p>}
      </div>
      <RecentJobs key={jobsGen} />
    </section>
  )
}

// RecentJobs lists the latest jobs of the queue.
function RecentJobs() {
  const [jobs, setJobs] = useState(null)
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(false)
  const load = async () => {
    setLoading(true)
    try {
      const r = await api.listJobs(20)
      setJobs(r.items || [])
      setError('')
    } catch (e) {
      setError(api.errorMessage(e))
    } finally {
      setLoading(false)
    }
  }
  useEffect(() => { load() }, [])
  return (
    <section class="card" aria-labelledby="recent-jobs-title">
      <header class="page-head">
        <h2 id="recent-jobs-title">Recent jobs</h2>
        <button type="button" onClick={load} disabled={loading}>Reload jobs</button>
      </header>
      <ErrorText>{error}</ErrorText>
      <div class="table-wrap">
        <table aria-labelledby="recent-jobs-title" aria-busy={loading}>
          <thead><tr><th scope="col">Id</th><th scope="col">Kind</th><th scope="col">Queue</th><th scope="col">State</th><th scope="col">Attempts</th>
            <th scope="col">Created (UTC)</th><th scope="col">Finished (UTC)</th><th scope="col">Last error</th></tr></thead>
          <tbody>
            {(jobs || []).map((j) => (
              <tr key={j.id}>
                <td class="num">{j.id}</td>
                <td class="mono small">{j.kind}{j.args?.id && <span class="muted"> {j.args.id}</span>}</td>
                <td class="small">{j.queue}</td>
                <td><span class={'state state-' + j.state}>{j.state}</span></td>
                <td class="num">{j.attempt}/{j.maxAttempts}</td>
                <td class="small mono date">{utc(j.created)}</td>
                <td class="small mono date">{j.finalized ? utc(j.finalized) : '—'}</td>
                <td><span class="excerpt mono small error-text" title={j.errors?.at(-1) || ''}>{j.errors?.at(-1) || ''}</span></td>
              </tr>
            ))}
          </tbody>
        </table>
        {jobs && jobs.length === 0 && <p class="empty">No jobs yet.</p>}
      </div>
    </section>
  )
}
