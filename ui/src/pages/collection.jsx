import { useRef, useState } from 'preact/hooks'
import * as api from '../api.js'
import { byName, collections, loadCollections, go, notify } from '../state.js'
import { Field, Check, Dialog, ErrorText, ListInput } from '../widgets.jsx'
import { AuthOptions, AUTH_KEYS, authPayload } from './authoptions.jsx'
import { CodeField } from '../code.jsx'
import { useLiveCheck } from '../filterbox.jsx'
import { FIELD_TYPES, RULES, AUTH_RULES, newField, withType, defaultFields, ruleWords, fieldChanges, preview } from '../schema.js'

let keySeq = 0
const keyed = (f) => ({ ...f, _key: ++keySeq })

function draftOf(c) {
  if (!c) {
    return { name: '', type: 'base', fields: defaultFields('base').map(keyed), indexes: [], listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null, viewQuery: '' }
  }
  const d = structuredClone(c)
  d.fields = (d.fields || []).map(keyed)
  d.indexes = d.indexes || []
  return d
}

// payload is the draft as the API takes it.
export function payload(d) {
  const out = { ...d, fields: d.fields.map(({ _key, ...f }) => f) }
  if (d.type === 'view') { delete out.fields; delete out.indexes }
  else delete out.viewQuery
  if (d.type !== 'auth') {
    delete out.authRule; delete out.manageRule
    for (const k of AUTH_KEYS) delete out[k]
    return out
  }
  return authPayload(out)
}

export function CollectionEditor({ name }) {
  const original = name ? byName.value[name] : null
  if (name && !original) {
    return collections.value.length ? <section><h1>Collection not found</h1><p>No collection is named {name}.</p></section> : <p>Loading…</p>
  }
  return <Editor original={original} />
}

function Editor({ original }) {
  const [d, setD] = useState(() => draftOf(original))
  const [errors, setErrors] = useState({})
  const [error, setError] = useState('')
  const [review, setReview] = useState(null)
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [busy, setBusy] = useState(false)
  const [newType, setNewType] = useState('text')
  const isNew = !original
  // clearErrors drops the save's errors under prefix (an edited option),
  // and the summary with the last of them.
  const clearErrors = (prefix) => {
    const under = (k) => k === prefix || k.startsWith(prefix + '.')
    if (!Object.keys(errors).some(under)) return
    const rest = Object.fromEntries(Object.entries(errors).filter(([k]) => !under(k)))
    setErrors(rest)
    if (Object.keys(rest).length === 0) setError('')
  }
  const set = (patch) => setD((prev) => ({ ...prev, ...patch }))
  const setField = (i, patch) => setD((prev) => ({ ...prev, fields: prev.fields.map((f, j) => (j === i ? { ...f, ...patch } : f)) }))
  const words = () => ruleWords(d.type === 'view' ? original : d, collections.value)

  const move = (i, delta) => setD((prev) => {
    const fields = [...prev.fields]
    const j = i + delta
    if (j < 0 || j >= fields.length) return prev
    ;[fields[i], fields[j]] = [fields[j], fields[i]]
    return { ...prev, fields }
  })

  const save = async (confirmed) => {
    if (!isNew && !confirmed) {
      const ch = fieldChanges(original.fields || [], d.type === 'view' ? original.fields || [] : d.fields)
      if (ch.dropped.length || ch.retyped.length || original.type !== d.type) {
        setReview(ch)
        return
      }
    }
    setReview(null)
    setBusy(true)
    setError('')
    setErrors({})
    try {
      const body = payload(d)
      const saved = isNew ? await api.createCollection(body) : await api.updateCollection(original.id, body)
      await loadCollections()
      notify(`Collection ${saved.name} saved.`)
      go('c', saved.name)
    } catch (e) {
      setErrors(api.fieldErrors(e))
      setError(api.errorMessage(e))
    } finally {
      setBusy(false)
    }
  }

  const remove = async () => {
    setConfirmDelete(false)
    try {
      await api.deleteCollection(original.id)
      await loadCollections()
      notify(`Collection ${original.name} deleted.`)
      go('')
    } catch (e) {
      setError(api.errorMessage(e))
    }
  }

  const rules = d.type === 'auth' ? [...RULES, ...AUTH_RULES] : d.type === 'view' ? RULES.slice(0, 2) : RULES
  return (
    <section class="editor">
      <header class="page-head">
        <h1>{isNew ? 'New collection' : `Edit collection ${original.name}`}</h1>
        {!isNew && <a class="button" href={'#/c/' + encodeURIComponent(original.name)}>Back to records</a>}
      </header>
      <form onSubmit={(e) => { e.preventDefault(); save(false) }}>
        <div class="row">
          <Field label="Name" error={errors.name}>{(id, desc) => <input id={id} aria-describedby={desc} required value={d.name} disabled={original?.system} onInput={(e) => set({ name: e.currentTarget.value })} />}</Field>
          <Field label="Type" error={errors.type}>{(id) => (
            <select id={id} value={d.type} disabled={!isNew} onChange={(e) => {
              const type = e.currentTarget.value
              set({ type, fields: isNew ? defaultFields(type).map(keyed) : d.fields })
            }}>
              <option value="base">Base</option>
              <option value="auth">Auth (users who sign in)</option>
              <option value="view">View (read-only SQL query)</option>
            </select>
          )}</Field>
        </div>

        {d.type === 'view' ? (
          <CodeField label="View query" lang="sql" rows={6} value={d.viewQuery} onChange={(v) => set({ viewQuery: v })} error={errors.viewQuery}
            hint="A SELECT whose columns become the fields; it must return an id column." />
        ) : (
          <fieldset class="fields">
            <legend>Fields</legend>
            {d.type === 'auth' && isNew && <p class="hint">The server adds the auth fields (email, password, tokenKey, verified, emailVisibility).</p>}
            <ol class="field-list">
              {d.fields.map((f, i) => (
                <FieldRow key={f._key} f={f} i={i} count={d.fields.length} errors={errors} original={original}
                  onChange={(patch) => setField(i, patch)} onMove={(delta) => move(i, delta)}
                  onRemove={() => setD((prev) => ({ ...prev, fields: prev.fields.filter((_, j) => j !== i) }))} />
              ))}
            </ol>
            <div class="row end">
              <Field label="New field type">{(id) => (
                <select id={id} value={newType} onChange={(e) => setNewType(e.currentTarget.value)}>
                  {Object.entries(FIELD_TYPES).map(([t, spec]) => <option key={t} value={t}>{spec.label}</option>)}
                </select>
              )}</Field>
              <button type="button" onClick={() => {
                // New fields go before created/updated, where people expect them.
                setD((prev) => {
                  const fields = [...prev.fields]
                  let at = fields.length
                  while (at > 0 && fields[at - 1].type === 'autodate') at--
                  fields.splice(at, 0, keyed(newField(newType, '')))
                  return { ...prev, fields }
                })
              }}>Add field</button>
            </div>
          </fieldset>
        )}

        {d.type !== 'view' && (
          <fieldset>
            <legend>Indexes</legend>
            {d.indexes.length === 0 && <p class="hint">No indexes.</p>}
            {d.indexes.map((ix, i) => (
              <div class="row" key={i}>
                <Field label={`Index ${i + 1}`} error={errors['indexes.' + i]} class="grow">{(id) => <input id={id} class="mono" value={ix} onInput={(e) => set({ indexes: d.indexes.map((x, j) => (j === i ? e.currentTarget.value : x)) })} />}</Field>
                <button type="button" class="danger-link" aria-label={`Remove index ${i + 1}`} onClick={() => set({ indexes: d.indexes.filter((_, j) => j !== i) })}>Remove</button>
              </div>
            ))}
            <ErrorText>{errors.indexes}</ErrorText>
            <button type="button" onClick={() => set({ indexes: [...d.indexes, `CREATE INDEX idx_${d.name || 'name'}_ ON ${d.name || 'name'} ()`] })}>Add index</button>
          </fieldset>
        )}

        <fieldset>
          <legend>API rules</legend>
          <p class="hint">Superusers only: nobody else may do it. An empty rule lets everyone. Otherwise a filter that must hold, e.g. <code>owner = @request.auth.id</code>. Press Ctrl+Space for suggestions.</p>
          {rules.map(([key, label]) => (
            <RuleEditor key={key} label={label} value={d[key]} error={errors[key]} words={words} onChange={(v) => set({ [key]: v })}
              validate={original && original.type === d.type ? (src) => api.listRecords(original.name, 1, 1, { filter: src, skipTotal: true, fields: 'id' }) : null} />
          ))}
          {!isNew && <RulePreview coll={original} />}
        </fieldset>

        {d.type === 'auth' && <AuthOptions d={d} set={set} errors={errors} fields={d.fields}
          clearErrors={clearErrors} name={original?.name || ''} />}

        <ErrorText>{error}</ErrorText>
        <div class="row actions">
          <button class="primary" type="submit" disabled={busy}>{isNew ? 'Create collection' : 'Save changes'}</button>
          {!isNew && !original.system && <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>Delete collection</button>}
        </div>
      </form>

      {review && (
        <Dialog title="Review destructive changes" onClose={() => setReview(null)}>
          {review.dropped.length > 0 && <><p>These fields and all their data will be deleted:</p><ul>{review.dropped.map((n) => <li key={n}><strong>{n}</strong></li>)}</ul></>}
          {review.retyped.length > 0 && <><p>These fields change type; values that do not convert are lost:</p><ul>{review.retyped.map((n) => <li key={n}>{n}</li>)}</ul></>}
          {original.type !== d.type && <p>The collection type changes from {original.type} to {d.type}.</p>}
          {review.renamed.length > 0 && <><p>Renamed (data kept):</p><ul>{review.renamed.map((n) => <li key={n}>{n}</li>)}</ul></>}
          <div class="row actions">
            <button type="button" class="danger" onClick={() => save(true)}>Save anyway</button>
            <button type="button" onClick={() => setReview(null)}>Cancel</button>
          </div>
        </Dialog>
      )}
      {confirmDelete && (
        <Dialog title={`Delete collection ${original.name}?`} onClose={() => setConfirmDelete(false)}>
          <p>Its table and every record in it are deleted. This cannot be undone.</p>
          <div class="row actions">
            <button type="button" class="danger" onClick={remove}>Delete</button>
            <button type="button" onClick={() => setConfirmDelete(false)}>Cancel</button>
          </div>
        </Dialog>
      )}
    </section>
  )
}

function FieldRow({ f, i, count, errors, onChange, onMove, onRemove }) {
  const [open, setOpen] = useState(!f.id && !f.name)
  const spec = FIELD_TYPES[f.type] || { label: f.type, opts: [] }
  const err = (k) => errors[`fields.${i}.${k}`]
  const label = f.name || `field ${i + 1}`
  const locked = f.system
  return (
    <li class="field-row">
      <div class="row">
        <Field label="Field name" error={err('name')} class="grow">{(id, desc) => <input id={id} aria-describedby={desc} value={f.name} disabled={locked} required onInput={(e) => onChange({ name: e.currentTarget.value })} />}</Field>
        <Field label="Field type">{(id) => (
          <select id={id} value={f.type} disabled={locked || !!f.id} onChange={(e) => onChange(withType(f, e.currentTarget.value))}>
            {Object.entries(FIELD_TYPES).map(([t, s]) => <option key={t} value={t}>{s.label}</option>)}
            {!FIELD_TYPES[f.type] && <option value={f.type}>{f.type}</option>}
          </select>
        )}</Field>
        <Check label="Required" checked={f.required} disabled={locked && f.type !== 'email'} onChange={(v) => onChange({ required: v })} />
        <div class="row tight">
          <button type="button" class="icon" aria-label={`Move ${label} up`} disabled={i === 0} onClick={() => onMove(-1)}>↑</button>
          <button type="button" class="icon" aria-label={`Move ${label} down`} disabled={i === count - 1} onClick={() => onMove(1)}>↓</button>
          <button type="button" aria-expanded={open} aria-label={`Options of ${label}`} onClick={() => setOpen(!open)}>Options</button>
          {!locked && <button type="button" class="danger-link" aria-label={`Remove ${label}`} onClick={onRemove}>Remove</button>}
        </div>
      </div>
      {err('') && <p class="error" role="alert">{err('')}</p>}
      {open && (
        <div class="options">
          <Check label="Hidden (only superusers see it)" checked={f.hidden} disabled={locked} onChange={(v) => onChange({ hidden: v })} />
          <Check label="Presentable (shown in relation previews)" checked={f.presentable} onChange={(v) => onChange({ presentable: v })} />
          {spec.opts.map(([key, optLabel, kind]) => (
            <Option key={key} kind={kind} label={`${optLabel}`} value={f[key]} error={err(key)} onChange={(v) => onChange({ [key]: v })} />
          ))}
        </div>
      )}
    </li>
  )
}

function Option({ kind, label, value, error, onChange }) {
  if (kind === 'bool') return <Check label={label} checked={value} onChange={onChange} />
  return (
    <Field label={label} error={error}>{(id, desc) => {
      switch (kind) {
        case 'int':
          return <input id={id} aria-describedby={desc} type="number" step="1" value={value ?? 0} onInput={(e) => onChange(parseInt(e.currentTarget.value || '0', 10))} />
        case 'float':
          return <input id={id} aria-describedby={desc} type="number" step="any" value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value === '' ? null : Number(e.currentTarget.value))} />
        case 'list':
          return <ListInput id={id} desc={desc} value={value} onChange={onChange} />
        case 'collection':
          return (
            <select id={id} aria-describedby={desc} value={value || ''} onChange={(e) => onChange(e.currentTarget.value)}>
              <option value="">Choose…</option>
              {collections.value.filter((c) => !c.system || c.name === '_superusers').map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          )
        default:
          return <input id={id} aria-describedby={desc} value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value)} />
      }
    }}</Field>
  )
}

// RuleEditor edits one rule. For a saved collection the server checks the
// rule while it is typed (as a superuser's filter over the collection: the
// same parser and fields, @request.* included); a new collection's rules
// are checked when it is created.
function RuleEditor({ label, value, error, words, onChange, validate }) {
  const locked = value === null || value === undefined
  const live = useLiveCheck(locked ? '' : value, validate)
  // The error of the last save stands until the rule is edited; then the
  // live check speaks.
  const seen = useRef({ error: undefined, value: undefined })
  if (seen.current.error !== error) seen.current = { error, value }
  const saved = error && seen.current.value === value ? error : ''
  const shown = saved || (live.state === 'bad' ? live.msg : '')
  const hint = shown ? undefined : live.state === 'ok' ? 'The server accepts this rule.' : live.state === 'checking' ? 'Checking…' : undefined
  return (
    <div class="rule">
      <Check label={`${label}: superusers only`} checked={locked} onChange={(v) => onChange(v ? null : '')} />
      {!locked && <CodeField label={label} lang="rule" rows={1} value={value} onChange={onChange} error={shown} hint={hint} completions={words} />}
      {locked && error && <p class="error" role="alert">{error}</p>}
    </div>
  )
}

// RulePreview lists the saved collection as a chosen auth record (the
// superuser impersonates it), showing what its SAVED list rule lets that
// user see.
function RulePreview({ coll }) {
  const auths = collections.value.filter((c) => c.type === 'auth' && c.name !== api.SUPERUSERS)
  const [authName, setAuthName] = useState(auths[0]?.name || '')
  const [q, setQ] = useState('')
  const [matches, setMatches] = useState(null)
  const [user, setUser] = useState(null)
  const [result, setResult] = useState(null)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const seq = useRef(0)
  if (!auths.length) return null
  const auth = byName.value[authName] || auths[0]

  const search = async (text) => {
    setQ(text)
    const n = ++seq.current
    if (!text.trim()) { setMatches(null); return }
    try {
      const res = await api.findAuthRecords(auth.name, text.trim())
      if (n === seq.current) { setMatches(res.items); setError('') }
    } catch (e) {
      if (n === seq.current) setError(api.errorMessage(e))
    }
  }
  const run = async () => {
    setBusy(true)
    setError('')
    setResult(null)
    try {
      setResult({ who: user.email || user.id, res: await api.listAs(auth.name, user.id, coll.name, 5) })
    } catch (e) {
      setError(api.errorMessage(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <fieldset class="field rule-preview">
      <legend>Preview as user</legend>
      <p class="hint">Lists this collection as the chosen user with the <strong>saved</strong> list rule; unsaved rule edits are not previewed.</p>
      <div class="row">
        <Field label="Auth collection">{(id) => (
          <select id={id} value={auth.name} onChange={(e) => { setAuthName(e.currentTarget.value); setUser(null); setMatches(null); setQ(''); setResult(null) }}>
            {auths.map((c) => <option key={c.id} value={c.name}>{c.name}</option>)}
          </select>
        )}</Field>
        <Field label="Find user by email" class="grow">{(id) => <input id={id} type="search" value={q} onInput={(e) => search(e.currentTarget.value)} onKeyDown={(e) => { if (e.key === 'Enter') e.preventDefault() }} />}</Field>
      </div>
      {matches && (matches.length ? (
        <ul class="preview-matches">
          {matches.map((r) => (
            <li key={r.id}><button type="button" class="link" aria-pressed={user?.id === r.id} aria-label={`Preview as ${r.email || r.id}`} onClick={() => { setUser(r); setResult(null) }}>{r.email || r.id}</button></li>
          ))}
        </ul>
      ) : <p class="hint">No user matches.</p>)}
      <div class="row">
        <button type="button" disabled={!user || busy} onClick={run}>{busy ? 'Previewing…' : 'Preview'}</button>
        {user && <span class="muted">as {user.email || user.id}</span>}
      </div>
      <ErrorText>{error}</ErrorText>
      {result && (
        <div role="status">
          <p><strong>{result.who}</strong> may list <strong>{result.res.totalItems}</strong> {result.res.totalItems === 1 ? 'record' : 'records'} of {coll.name}.</p>
          {result.res.items.length > 0 && (
            <ul class="preview-list">
              {result.res.items.map((r) => <li key={r.id}><code>{r.id}</code> {preview(r, coll) !== r.id ? preview(r, coll) : ''}</li>)}
            </ul>
          )}
          {result.res.totalItems > result.res.items.length && <p class="hint">First {result.res.items.length} shown.</p>}
        </div>
      )}
    </fieldset>
  )
}
