import { useEffect, useId, useRef, useState } from 'preact/hooks'
import * as api from '../api.js'
import { byId } from '../state.js'
import { Field, Check, Dialog, ErrorText } from '../widgets.jsx'
import { CodeField } from '../code.jsx'
import { preview } from '../schema.js'
import { ImpersonateDialog } from '../impersonate.jsx'

// editable fields: autodates are set by the server, the token key is
// internal, and the id can only be chosen on create.
function editable(c, isNew) {
  return (c.fields || []).filter((f) => f.type !== 'autodate' && !(f.system && f.hidden) && (f.name !== 'id' || isNew))
}

// Dates travel as "2026-12-03 21:00:00.000Z" (UTC); the input shows UTC.
const toInput = (v) => (v ? v.replace(' ', 'T').slice(0, 16) : '')
const fromInput = (v) => (v ? v.replace('T', ' ') + ':00.000Z' : '')

function initial(c, r) {
  const v = {}
  for (const f of c.fields || []) {
    const cur = r?.[f.name]
    if (f.type === 'json') v[f.name] = cur === undefined || cur === null ? '' : JSON.stringify(cur, null, 2)
    else if (f.type === 'password') v[f.name] = ''
    else v[f.name] = cur ?? null
  }
  return v
}

export function RecordPanel({ c, record, onClose, onSaved }) {
  const isNew = !record
  const readOnly = c.type === 'view'
  const [vals, setVals] = useState(() => initial(c, record))
  const [confirm, setConfirm] = useState('')
  const [files, setFiles] = useState({}) // field -> {add: File[], remove: string[]}
  const [errors, setErrors] = useState({})
  const [error, setError] = useState('')
  const [progress, setProgress] = useState(null)
  const [busy, setBusy] = useState(false)
  const [askDelete, setAskDelete] = useState(false)
  const [impersonating, setImpersonating] = useState(false)
  const titleId = useId()
  const panel = useRef(null)
  const set = (name, v) => setVals((p) => ({ ...p, [name]: v }))

  useEffect(() => {
    // Focus moves into the panel, and back to what opened it on close.
    const opener = document.activeElement
    panel.current?.querySelector('input, select, textarea, button')?.focus()
    const onKey = (e) => { if (e.key === 'Escape' && !document.querySelector('dialog[open]')) onClose() }
    addEventListener('keydown', onKey)
    return () => {
      removeEventListener('keydown', onKey)
      if (opener?.isConnected) opener.focus()
    }
  }, [])

  const submit = async (e) => {
    e.preventDefault()
    const body = {}
    const errs = {}
    for (const f of editable(c, isNew)) {
      let v = vals[f.name]
      if (f.type === 'file') {
        const ch = files[f.name]
        if (!ch) continue
        if (ch.remove.length) body[f.name + '-'] = ch.remove
        if (ch.add.length) body[(f.maxSelect > 1 ? f.name + '+' : f.name)] = f.maxSelect > 1 ? ch.add : ch.add[0]
        continue
      }
      if (f.type === 'password') {
        if (!v) continue
        body[f.name] = v
        body.passwordConfirm = confirm
        continue
      }
      if (f.type === 'json') {
        if (v === '') v = null
        else {
          try { v = JSON.parse(v) } catch (err) { errs[f.name] = 'Invalid JSON: ' + err.message; continue }
        }
      }
      if (f.name === 'id' && !v) continue
      body[f.name] = v
    }
    if (Object.keys(errs).length) { setErrors(errs); return }
    setBusy(true)
    setError('')
    setErrors({})
    const hasFiles = Object.values(files).some((ch) => ch.add.length)
    try {
      const saved = await api.saveRecord(c.name, record?.id, body, hasFiles ? setProgress : null)
      onSaved(saved)
    } catch (err) {
      setErrors(api.fieldErrors(err))
      setError(api.errorMessage(err))
    } finally {
      setBusy(false)
      setProgress(null)
    }
  }

  const remove = async () => {
    setAskDelete(false)
    try {
      await api.deleteRecord(c.name, record.id)
      onSaved(record, true)
    } catch (err) {
      setError(api.errorMessage(err))
    }
  }

  return (
    <aside class="panel" ref={panel} aria-labelledby={titleId} role="dialog" aria-modal="false">
      <header class="page-head">
        <h2 id={titleId}>{isNew ? `New ${c.name} record` : `${readOnly ? 'View' : 'Edit'} ${c.name} record`}</h2>
        <button type="button" onClick={onClose}>Close</button>
      </header>
      {!isNew && <p class="mono small">id {record.id}</p>}
      <form onSubmit={submit}>
        <fieldset disabled={readOnly || busy}>
          {editable(c, isNew).map((f) => (
            <Input key={f.name} f={f} c={c} record={record} value={vals[f.name]} error={errors[f.name]}
              onChange={(v) => set(f.name, v)} files={files[f.name]} onFiles={(ch) => setFiles((p) => ({ ...p, [f.name]: ch }))}
              confirm={confirm} setConfirm={setConfirm} confirmError={errors.passwordConfirm} />
          ))}
        </fieldset>
        {progress !== null && <progress max="1" value={progress} aria-label="Upload progress">{Math.round(progress * 100)}%</progress>}
        <ErrorText>{error}</ErrorText>
        {!readOnly && (
          <div class="row actions">
            <button class="primary" type="submit" disabled={busy}>{isNew ? 'Create' : 'Save'}</button>
            {!isNew && c.type === 'auth' && <button type="button" onClick={() => setImpersonating(true)}>Impersonate</button>}
            {!isNew && <button type="button" class="danger" onClick={() => setAskDelete(true)}>Delete record</button>}
          </div>
        )}
      </form>
      {impersonating && <ImpersonateDialog c={c} record={record} onClose={() => setImpersonating(false)} />}
      {askDelete && (
        <Dialog title="Delete this record?" onClose={() => setAskDelete(false)}>
          <p>Record {record.id} is deleted for good.</p>
          <div class="row actions">
            <button type="button" class="danger" onClick={remove}>Delete</button>
            <button type="button" onClick={() => setAskDelete(false)}>Cancel</button>
          </div>
        </Dialog>
      )}
    </aside>
  )
}

function Input({ f, c, record, value, error, onChange, files, onFiles, confirm, setConfirm, confirmError }) {
  const label = f.name + (f.required && f.name !== 'id' ? ' (required)' : '')
  switch (f.type) {
    case 'bool':
      return <><Check label={f.name} checked={value} onChange={onChange} />{error && <p class="error" role="alert">{error}</p>}</>
    case 'number':
      return <Field label={label} error={error}>{(id, d) => <input id={id} aria-describedby={d} type="number" step={f.onlyInt ? 1 : 'any'} value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value === '' ? null : Number(e.currentTarget.value))} />}</Field>
    case 'email':
      return <Field label={label} error={error}>{(id, d) => <input id={id} aria-describedby={d} type="email" value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value)} />}</Field>
    case 'url':
      return <Field label={label} error={error}>{(id, d) => <input id={id} aria-describedby={d} type="url" value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value)} />}</Field>
    case 'editor':
      return <Field label={label} error={error} hint="HTML">{(id, d) => <textarea id={id} aria-describedby={d} rows={6} value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value)} />}</Field>
    case 'date':
      return <Field label={label + ' (UTC)'} error={error}>{(id, d) => <input id={id} aria-describedby={d} type="datetime-local" value={toInput(value)} onInput={(e) => onChange(fromInput(e.currentTarget.value))} />}</Field>
    case 'select':
      if ((f.maxSelect || 1) <= 1) {
        return <Field label={label} error={error}>{(id, d) => (
          <select id={id} aria-describedby={d} value={value || ''} onChange={(e) => onChange(e.currentTarget.value)}>
            <option value="">—</option>
            {(f.values || []).map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        )}</Field>
      }
      return (
        <fieldset class="field">
          <legend>{label}</legend>
          {(f.values || []).map((v) => {
            const cur = Array.isArray(value) ? value : []
            return <Check key={v} label={v} checked={cur.includes(v)} onChange={(on) => onChange(on ? [...cur, v] : cur.filter((x) => x !== v))} />
          })}
          {error && <p class="error" role="alert">{error}</p>}
        </fieldset>
      )
    case 'json':
      return <CodeField label={label} lang="json" rows={4} value={value ?? ''} onChange={onChange} error={error} />
    case 'geoPoint': {
      const p = value || { lon: 0, lat: 0 }
      return (
        <fieldset class="field">
          <legend>{label}</legend>
          <div class="row">
            <Field label="Longitude">{(id) => <input id={id} type="number" step="any" min="-180" max="180" value={p.lon} onInput={(e) => onChange({ ...p, lon: Number(e.currentTarget.value) })} />}</Field>
            <Field label="Latitude">{(id) => <input id={id} type="number" step="any" min="-90" max="90" value={p.lat} onInput={(e) => onChange({ ...p, lat: Number(e.currentTarget.value) })} />}</Field>
          </div>
          {error && <p class="error" role="alert">{error}</p>}
        </fieldset>
      )
    }
    case 'password':
      return (
        <>
          <Field label={f.name + (record ? ' (leave empty to keep)' : '')} error={error}>{(id, d) => <input id={id} aria-describedby={d} type="password" autocomplete="new-password" value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value)} />}</Field>
          <Field label={f.name + ' confirm'} error={confirmError}>{(id, d) => <input id={id} aria-describedby={d} type="password" autocomplete="new-password" value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} />}</Field>
        </>
      )
    case 'file':
      return <FileInput f={f} record={record} label={label} error={error} change={files || { add: [], remove: [] }} onChange={onFiles} />
    case 'relation':
      return <RelationInput f={f} value={value} label={label} error={error} onChange={onChange} record={record} />
    default:
      return <Field label={label} error={error} hint={f.name === 'id' ? 'Leave empty for a random id.' : undefined}>{(id, d) => <input id={id} aria-describedby={d} value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value)} />}</Field>
  }
}

function FileInput({ f, record, label, error, change, onChange }) {
  const [over, setOver] = useState(false)
  const existing = record ? (Array.isArray(record[f.name]) ? record[f.name] : record[f.name] ? [record[f.name]] : []) : []
  const multi = (f.maxSelect || 1) > 1
  const add = (list) => {
    const picked = [...list]
    onChange({ ...change, add: multi ? [...change.add, ...picked] : picked.slice(0, 1), remove: multi ? change.remove : existing })
  }
  return (
    <fieldset class={'field drop' + (over ? ' over' : '')}
      onDragOver={(e) => { e.preventDefault(); setOver(true) }} onDragLeave={() => setOver(false)}
      onDrop={(e) => { e.preventDefault(); setOver(false); add(e.dataTransfer.files) }}>
      <legend>{label}</legend>
      <ul class="file-list">
        {existing.map((n) => {
          const removed = change.remove.includes(n)
          return (
            <li key={n} class={removed ? 'removed' : ''}>
              {/\.(png|jpe?g|gif|webp|avif)$/i.test(n) && !f.protected && <img src={api.fileURL(record, n, { thumb: '100x100' })} alt="" width="40" height="40" />}
              <span>{n}</span>
              <button type="button" class="link" aria-label={(removed ? 'Keep ' : 'Remove ') + n}
                onClick={() => onChange({ ...change, remove: removed ? change.remove.filter((x) => x !== n) : [...change.remove, n] })}>{removed ? 'Keep' : 'Remove'}</button>
            </li>
          )
        })}
        {change.add.map((file, i) => (
          <li key={'new' + i}><span>{file.name} (new, {Math.ceil(file.size / 1024)} KB)</span>
            <button type="button" class="link" aria-label={`Drop ${file.name}`} onClick={() => onChange({ ...change, add: change.add.filter((_, j) => j !== i) })}>Drop</button></li>
        ))}
      </ul>
      <Field label={`Upload ${f.name}`} hint="Or drop files here.">{(id, d) => <input id={id} aria-describedby={d} type="file" multiple={multi} accept={(f.mimeTypes || []).join(',') || undefined} onChange={(e) => { add(e.currentTarget.files); e.currentTarget.value = '' }} />}</Field>
      {error && <p class="error" role="alert">{error}</p>}
    </fieldset>
  )
}

function RelationInput({ f, value, label, error, onChange, record }) {
  const target = byId.value[f.collectionId]
  const multi = (f.maxSelect || 1) > 1
  const ids = Array.isArray(value) ? value : value ? [value] : []
  const [q, setQ] = useState('')
  const [results, setResults] = useState([])
  const [known, setKnown] = useState(() => {
    const exp = record?.expand?.[f.name]
    const list = Array.isArray(exp) ? exp : exp ? [exp] : []
    return Object.fromEntries(list.map((r) => [r.id, r]))
  })
  const [searchError, setSearchError] = useState('')

  useEffect(() => {
    if (!target) return
    const missing = ids.filter((id) => !known[id])
    if (!missing.length) return
    api.listRecords(target.name, 1, missing.length, { filter: missing.map((id) => `id="${id.replace(/"/g, '')}"`).join('||') })
      .then((res) => setKnown((k) => ({ ...k, ...Object.fromEntries(res.items.map((r) => [r.id, r])) }))).catch(() => {})
  }, [ids.join(',')])

  useEffect(() => {
    if (!target) return
    const t = setTimeout(async () => {
      const text = (target.fields || []).filter((x) => ['text', 'email', 'url', 'editor'].includes(x.type)).map((x) => x.name)
      const term = JSON.stringify(q)
      const filter = q ? ['id', ...text.filter((n) => n !== 'id')].map((n) => `${n} ~ ${term}`).join(' || ') : ''
      try {
        const res = await api.listRecords(target.name, 1, 10, { filter: filter || undefined })
        setResults(res.items)
        setSearchError('')
        setKnown((k) => ({ ...k, ...Object.fromEntries(res.items.map((r) => [r.id, r])) }))
      } catch (e) {
        setSearchError(api.errorMessage(e))
      }
    }, 200)
    return () => clearTimeout(t)
  }, [q, f.collectionId])

  if (!target) return <p class="error">{f.name}: the related collection is missing.</p>
  const pick = (id) => onChange(multi ? (ids.includes(id) ? ids : [...ids, id]) : id)
  const unpick = (id) => onChange(multi ? ids.filter((x) => x !== id) : '')
  return (
    <fieldset class="field relation">
      <legend>{label} → {target.name}</legend>
      <ul class="chips" aria-label={`Selected ${f.name}`}>
        {ids.map((id) => (
          <li key={id} class="chip">{preview(known[id], target) || id}
            <button type="button" class="link" aria-label={`Unselect ${preview(known[id], target) || id}`} onClick={() => unpick(id)}>×</button></li>
        ))}
      </ul>
      <Field label={`Search ${target.name}`}>{(id) => <input id={id} type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />}</Field>
      <ul class="results" aria-label={`Matching ${target.name} records`}>
        {results.map((r) => (
          <li key={r.id}><button type="button" class="link" aria-label={`Choose ${preview(r, target)}`} aria-pressed={ids.includes(r.id)} onClick={() => (ids.includes(r.id) ? unpick(r.id) : pick(r.id))}>
            {preview(r, target)} <span class="muted small mono">{r.id}</span></button></li>
        ))}
      </ul>
      {searchError && <p class="error">{searchError}</p>}
      {error && <p class="error" role="alert">{error}</p>}
    </fieldset>
  )
}
