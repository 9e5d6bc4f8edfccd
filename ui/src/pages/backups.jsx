// Backups: archives of the database and the files, kept in the file
// storage; made now, uploaded, downloaded, deleted; and the schedule
// (settings backups.cron and backups.cronMaxKeep). A chunk of its own,
// loaded on the first visit.
import { useEffect, useRef, useState } from 'preact/hooks'
import * as api from '../api.js'
import { notify, loadCollections } from '../state.js'
import { Field, Dialog, ErrorText } from '../widgets.jsx'
import { size, utc } from '../format.js'

export function Backups() {
  const [list, setList] = useState(null)
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(false)
  const [confirm, setConfirm] = useState(null) // {action: 'restore'|'delete', key}
  const [outcome, setOutcome] = useState(null) // {key, ok, message} of the last restore
  const [gen, setGen] = useState(0) // a new schedule form after a restore
  const load = async () => {
    setLoading(true)
    try {
      const l = await api.listBackups()
      l.sort((a, b) => String(b.modified).localeCompare(String(a.modified)) || a.key.localeCompare(b.key))
      setList(l)
      setError('')
    } catch (e) {
      setError(api.errorMessage(e))
    } finally {
      setLoading(false)
    }
  }
  useEffect(() => { load() }, [])

  const download = async (key) => {
    setError('')
    try {
      const url = await api.backupDownloadURL(key)
      const a = document.createElement('a')
      a.href = url
      a.download = key
      document.body.appendChild(a)
      a.click()
      a.remove()
    } catch (e) { setError(api.errorMessage(e)) }
  }
  const act = async () => {
    const { action, key } = confirm
    setConfirm(null)
    setError('')
    if (action === 'delete') {
      try { await api.deleteBackup(key); notify(`Backup ${key} deleted.`); load() } catch (e) { setError(api.errorMessage(e)) }
      return
    }
    setOutcome({ key, busy: true })
    try {
      await api.restoreBackup(key)
      setOutcome({ key, ok: true, message: 'The collections, records, settings and files are now those of the backup.' })
      notify(`Backup ${key} restored.`)
      // Everything shown may have changed.
      loadCollections()
      setGen((g) => g + 1)
      load()
    } catch (e) {
      setOutcome({ key, ok: false, message: api.errorMessage(e) })
    }
  }

  return (
    <section class="backups">
      <header class="page-head">
        <h1>Backups</h1>
        <button type="button" onClick={load} disabled={loading}>Reload backups</button>
      </header>
      <p class="hint">A backup is a .zip of the database (collections, records, settings) and the stored files, kept under <code>_backups/</code> in the backups storage: the S3 bucket of Settings → Backups storage when it is on, else the file storage.</p>
      <div class="row cards">
        <NewBackup onDone={load} />
        <UploadBackup onDone={load} />
      </div>
      {outcome && (
        <div class={'card ' + (outcome.ok ? 'notice' : 'failure')} role={outcome.busy ? 'status' : 'alert'} aria-label={`Restore of ${outcome.key}`}>
          {outcome.busy ? <p aria-busy="true">Restoring {outcome.key}…</p> : (
            <>
              <p><strong>{outcome.ok ? `Backup ${outcome.key} restored.` : `Restore of ${outcome.key} refused by the server:`}</strong></p>
              <p class={outcome.ok ? '' : 'mono small restore-message'}>{outcome.message}</p>
              <button type="button" onClick={() => setOutcome(null)}>Dismiss</button>
            </>
          )}
        </div>
      )}
      <ErrorText>{error}</ErrorText>
      <div class="table-wrap">
        <table aria-label="Backups" aria-busy={list === null}>
          <thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">Modified (UTC)</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {(list || []).map((b) => (
              <tr key={b.key}>
                <td class="mono">{b.key}</td>
                <td class="num" title={b.size + ' bytes'}>{size(b.size)}</td>
                <td class="small mono date">{utc(b.modified)}</td>
                <td class="nowrap">
                  <button type="button" class="link" aria-label={`Download ${b.key}`} onClick={() => download(b.key)}>Download</button>
                  <button type="button" class="link" aria-label={`Restore ${b.key}`} onClick={() => setConfirm({ action: 'restore', key: b.key })}>Restore</button>
                  <button type="button" class="danger-link" aria-label={`Delete ${b.key}`} onClick={() => setConfirm({ action: 'delete', key: b.key })}>Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {list && list.length === 0 && <p class="empty">No backups yet.</p>}
      </div>
      <Schedule key={gen} />
      {confirm?.action === 'delete' && (
        <Dialog title={`Delete backup ${confirm.key}?`} onClose={() => setConfirm(null)}>
          <p>The archive is removed from the file storage for good.</p>
          <div class="row actions"><button type="button" class="danger" onClick={act}>Delete</button><button type="button" onClick={() => setConfirm(null)}>Cancel</button></div>
        </Dialog>
      )}
      {confirm?.action === 'restore' && (
        <Dialog title={`Restore backup ${confirm.key}?`} onClose={() => setConfirm(null)}>
          <p>Restoring replaces all the current data (collections, records, settings, files) with the backup's.</p>
          <div class="row actions"><button type="button" class="danger" onClick={act}>Restore</button><button type="button" onClick={() => setConfirm(null)}>Cancel</button></div>
        </Dialog>
      )}
    </section>
  )
}

// NewBackup makes a backup now, under an optional name.
function NewBackup({ onDone }) {
  const [name, setName] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const submit = async (e) => {
    e.preventDefault()
    if (busy) return
    setBusy(true)
    setError('')
    try {
      await api.createBackup(name.trim())
      notify(name.trim() ? `Backup ${name.trim()} created.` : 'Backup created.')
      setName('')
      onDone()
    } catch (err) {
      setError(api.errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="card grow" onSubmit={submit} aria-labelledby="new-backup-title" aria-busy={busy}>
      <h2 id="new-backup-title">New backup</h2>
      <Field label="Backup name (optional)" error={error} hint="Lower-case letters, digits, _ and -, ending in .zip. Empty: pb_backup_ and the time.">
        {(id, d, bad) => <input id={id} class="mono" aria-describedby={d} aria-invalid={bad} placeholder="nightly_1.zip" value={name} disabled={busy} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <button class="primary" type="submit" disabled={busy}>{busy ? 'Creating backup…' : 'Create backup'}</button>
    </form>
  )
}

// UploadBackup adds a .zip made elsewhere (or downloaded earlier).
function UploadBackup({ onDone }) {
  const [file, setFile] = useState(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const input = useRef(null)
  const submit = async (e) => {
    e.preventDefault()
    if (busy || !file) return
    setBusy(true)
    setError('')
    try {
      await api.uploadBackup(file)
      notify(`Backup ${file.name} uploaded.`)
      setFile(null)
      if (input.current) input.current.value = ''
      onDone()
    } catch (err) {
      setError(api.errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="card grow" onSubmit={submit} aria-labelledby="upload-backup-title" aria-busy={busy}>
      <h2 id="upload-backup-title">Upload a backup</h2>
      <Field label="Backup file (.zip)" error={error} hint="A Plinth backup; its file name becomes the backup's name.">
        {(id, d, bad) => <input id={id} ref={input} type="file" accept=".zip,application/zip" aria-describedby={d} aria-invalid={bad} disabled={busy} onChange={(e) => setFile(e.currentTarget.files?.[0] || null)} />}
      </Field>
      <button type="submit" disabled={busy || !file}>{busy ? 'Uploading…' : 'Upload backup'}</button>
    </form>
  )
}

// Schedule edits backups.cron and backups.cronMaxKeep; the server checks
// the expression and its errors show next to the fields.
function Schedule() {
  const [cron, setCron] = useState(null)
  const [keep, setKeep] = useState(3)
  const [errors, setErrors] = useState({})
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const apply = (s) => { setCron(s.backups?.cron || ''); setKeep(s.backups?.cronMaxKeep || 1) }
  useEffect(() => { api.getSettings().then(apply, (e) => setError(api.errorMessage(e))) }, [])
  const submit = async (e) => {
    e.preventDefault()
    if (busy) return
    setBusy(true)
    setErrors({})
    setError('')
    try {
      apply(await api.saveBackupSchedule(cron.trim(), Number(keep)))
      notify('Backup schedule saved.')
    } catch (err) {
      const fe = api.fieldErrors(err)
      setErrors(fe)
      const other = Object.entries(fe).filter(([k]) => k !== 'backups.cron' && k !== 'backups.cronMaxKeep').map(([k, v]) => k + ': ' + v)
      setError(other.length ? 'The schedule was not saved. ' + other.join('; ')
        : Object.keys(fe).length ? 'The schedule was not saved: see the fields marked above.' : api.errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="card" onSubmit={submit} noValidate aria-labelledby="schedule-title" aria-busy={cron === null}>
      <h2 id="schedule-title">Schedule</h2>
      <div class="row top">
        <Field label="Cron expression" class="grow" error={errors['backups.cron']}
          hint={<>Empty: no scheduled backups. Five fields, minute hour day-of-month month day-of-week (e.g. <code>0 3 * * *</code> every day at 03:00 UTC, <code>*/30 * * * *</code>), or <code>@hourly</code>, <code>@daily</code>, <code>@weekly</code>, <code>@monthly</code>, <code>@yearly</code>.</>}>
          {(id, d, bad) => <input id={id} class="mono" aria-describedby={d} aria-invalid={bad} placeholder="off" value={cron ?? ''} disabled={cron === null}
            onInput={(e) => setCron(e.currentTarget.value)} />}
        </Field>
        <Field label="Scheduled backups kept" error={errors['backups.cronMaxKeep']} hint="At least 1; older scheduled (auto_…) ones are deleted.">
          {(id, d, bad) => <input id={id} type="number" min="1" step="1" class="keep" aria-describedby={d} aria-invalid={bad} value={keep} disabled={cron === null}
            onInput={(e) => setKeep(e.currentTarget.value)} />}
        </Field>
      </div>
      <ErrorText>{error}</ErrorText>
      <button class="primary" type="submit" disabled={busy || cron === null}>Save schedule</button>
    </form>
  )
}
