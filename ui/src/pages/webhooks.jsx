// Webhooks: endpoints told of record changes (POST, signed the Standard
// Webhooks way), their deliveries, and the setting that lets them reach
// private networks. A chunk of its own, loaded on the first visit.
import { useEffect, useId, useRef, useState } from 'preact/hooks'
import * as api from '../api.js'
import { collections, notify } from '../state.js'
import { Field, Check, Dialog, ErrorText } from '../widgets.jsx'
import { CodeField } from '../code.jsx'
import { filterWords } from '../schema.js'

const EVENTS = [['create', 'Create'], ['update', 'Update'], ['delete', 'Delete']]
const RETRYABLE = new Set(['failed', 'cancelled'])
const INLINE = new Set(['name', 'url', 'collections', 'events', 'filter'])

const blank = () => ({ name: '', url: '', collections: [], events: ['create', 'update', 'delete'], filter: '', active: true })

export function Webhooks() {
  const [hooks, setHooks] = useState(null)
  const [error, setError] = useState('')
  const [form, setForm] = useState(null) // {id?, ...fields} while the form is open
  const [formGen, setFormGen] = useState(0) // a new filter editor per opening
  const [created, setCreated] = useState(null) // the create answer, with its secret
  const [removing, setRemoving] = useState(null)
  const [open, setOpen] = useState(null) // id of the webhook whose deliveries show
  const load = () => api.listWebhooks().then((r) => { setHooks(r.items || []); setError('') }, (e) => setError(api.errorMessage(e)))
  useEffect(() => { load() }, [])

  const edit = (h) => {
    setCreated(null)
    setForm(h ? { id: h.id, name: h.name, url: h.url, collections: h.collections || [], events: h.events || [], filter: h.filter || '', active: h.active } : blank())
    setFormGen((g) => g + 1)
  }
  const saved = (h, isNew) => {
    setForm(null)
    if (isNew) setCreated(h)
    notify(isNew ? `Webhook ${h.name} created.` : `Webhook ${h.name} saved.`)
    load()
  }
  const enable = async (h) => {
    try { await api.updateWebhook(h.id, { active: true }); notify(`Webhook ${h.name} enabled.`); load() } catch (e) { setError(api.errorMessage(e)) }
  }
  const doRemove = async () => {
    const h = removing
    setRemoving(null)
    try {
      await api.deleteWebhook(h.id)
      if (open === h.id) setOpen(null)
      notify(`Webhook ${h.name} deleted.`)
      load()
    } catch (e) { setError(api.errorMessage(e)) }
  }
  const shown = hooks?.find((h) => h.id === open)

  return (
    <section class="webhooks">
      <header class="page-head">
        <h1>Webhooks</h1>
        {!form && <button type="button" class="primary" onClick={() => edit(null)}>New webhook</button>}
      </header>
      <p class="hint">Each record change in the chosen collections is sent as a signed <code>POST</code> (Standard Webhooks headers <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>), retried for about a day when it fails.</p>
      <PrivateNetworks />
      {form && <HookForm key={formGen} initial={form} onSaved={saved} onCancel={() => setForm(null)} />}
      {created && (
        <div class="card notice" role="region" aria-label="New webhook secret">
          <p>Copy the signing secret of <strong>{created.name}</strong> now: <strong>you will not see it again</strong>. Receivers use it to check the <code>webhook-signature</code> header.</p>
          <Field label="Signing secret">{(id) => <input id={id} class="mono wide-input" readOnly value={created.secret} onFocus={(e) => e.currentTarget.select()} />}</Field>
          <div class="row tight">
            <button type="button" onClick={() => { navigator.clipboard?.writeText(created.secret).then(() => notify('Copied.'), () => notify('Copying failed; select the secret and copy it.')) }}>Copy secret</button>
            <button type="button" onClick={() => setCreated(null)}>Done</button>
          </div>
        </div>
      )}
      <ErrorText>{error}</ErrorText>
      <div class="table-wrap">
        <table aria-label="Webhooks" aria-busy={hooks === null}>
          <thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Collections</th><th scope="col">Events</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {(hooks || []).map((h) => (
              <tr key={h.id} class={open === h.id ? 'selected' : ''}>
                <td>{h.name}</td>
                <td><span class="clip mono small" title={h.url}>{h.url}</span></td>
                <td class="small">{(h.collections || []).map((c) => (c === '*' ? 'all (*)' : c)).join(', ')}</td>
                <td class="small">{(h.events || []).join(', ')}</td>
                <td>{h.active
                  ? <span class="state state-ok">Active</span>
                  : <><span class="state state-off">Disabled</span>{h.disabledReason && <span class="small muted reason">{h.disabledReason}</span>}</>}</td>
                <td class="nowrap">
                  <button type="button" class="link" aria-label={`Deliveries of ${h.name}`} aria-pressed={open === h.id} onClick={() => setOpen(open === h.id ? null : h.id)}>Deliveries</button>
                  <button type="button" class="link" aria-label={`Edit ${h.name}`} onClick={() => edit(h)}>Edit</button>
                  {!h.active && <button type="button" class="link" aria-label={`Enable ${h.name}`} onClick={() => enable(h)}>Enable</button>}
                  <button type="button" class="danger-link" aria-label={`Delete ${h.name}`} onClick={() => setRemoving(h)}>Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {hooks && hooks.length === 0 && <p class="empty">No webhooks yet.</p>}
      </div>
      {shown && <Deliveries key={shown.id} hook={shown} onClose={() => setOpen(null)} />}
      {removing && (
        <Dialog title={`Delete webhook ${removing.name}?`} onClose={() => setRemoving(null)}>
          <p>Its deliveries are deleted with it; those still queued are not sent.</p>
          <div class="row actions"><button type="button" class="danger" onClick={doRemove}>Delete</button><button type="button" onClick={() => setRemoving(null)}>Cancel</button></div>
        </Dialog>
      )}
    </section>
  )
}

// PrivateNetworks is the setting webhooks.allowPrivateNetworks, saved as
// soon as it is ticked.
function PrivateNetworks() {
  const id = useId()
  const [allow, setAllow] = useState(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  useEffect(() => {
    api.getSettings().then((s) => setAllow(!!s.webhooks?.allowPrivateNetworks), (e) => setError(api.errorMessage(e)))
  }, [])
  const change = async (v) => {
    setBusy(true)
    setError('')
    try {
      const s = await api.setAllowPrivateNetworks(v)
      setAllow(!!s.webhooks?.allowPrivateNetworks)
      notify(v ? 'Private network targets allowed.' : 'Private network targets refused.')
    } catch (e) {
      setError(api.errorMessage(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <div class="card">
      <div class="check">
        <input id={id} type="checkbox" checked={!!allow} disabled={allow === null || busy} aria-describedby={id + '-warn'} onChange={(e) => change(e.currentTarget.checked)} />
        <label for={id}>Allow private network targets (webhooks.allowPrivateNetworks)</label>
      </div>
      <p id={id + '-warn'} class="warning small">
        Warning: when ticked, webhooks may reach loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7) and link-local
        addresses, cloud metadata endpoints included. Anyone who can edit webhooks can then make this server send requests
        inside your network (SSRF). Tick it only for receivers on your own network. Saved at once.
      </p>
      <ErrorText>{error}</ErrorText>
    </div>
  )
}

// HookForm creates or changes a webhook; the server's field errors show
// next to their fields.
function HookForm({ initial, onSaved, onCancel }) {
  const [f, setF] = useState(initial)
  const [errors, setErrors] = useState({})
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const filterRef = useRef(initial.filter)
  const collsId = useId()
  const eventsId = useId()
  const set = (k, v) => setF((p) => ({ ...p, [k]: v }))
  const toggle = (k, v, on) => setF((p) => ({ ...p, [k]: on ? [...p[k].filter((x) => x !== v), v] : p[k].filter((x) => x !== v) }))
  const all = f.collections.includes('*')
  const userColls = collections.value.filter((c) => !c.system)
  const words = () => {
    const chosen = all ? userColls : userColls.filter((c) => f.collections.includes(c.name) || f.collections.includes(c.id))
    return [...new Set(chosen.flatMap((c) => filterWords(c, collections.value)))]
  }
  const isNew = !initial.id

  const submit = async (e) => {
    e?.preventDefault()
    if (busy) return
    setBusy(true)
    setErrors({})
    setError('')
    const body = { name: f.name, url: f.url, collections: f.collections, events: f.events, filter: filterRef.current.trim(), active: f.active }
    try {
      const h = isNew ? await api.createWebhook(body) : await api.updateWebhook(initial.id, body)
      onSaved(h, isNew)
    } catch (err) {
      const fe = api.fieldErrors(err)
      setErrors(fe)
      // Errors of fields the form has no place for (the secret) show here.
      const other = Object.entries(fe).filter(([k]) => !INLINE.has(k)).map(([k, v]) => k + ': ' + v)
      setError(other.length ? 'The webhook was not saved. ' + other.join('; ')
        : Object.keys(fe).length ? 'The webhook was not saved: see the fields marked above.' : api.errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="card" onSubmit={submit} noValidate aria-labelledby="hook-form-title">
      <h2 id="hook-form-title">{isNew ? 'New webhook' : `Edit webhook ${initial.name}`}</h2>
      <div class="row">
        <Field label="Name" error={errors.name} hint="Empty: the URL.">{(id, d, bad) => <input id={id} aria-describedby={d} aria-invalid={bad} value={f.name} onInput={(e) => set('name', e.currentTarget.value)} />}</Field>
        <Field label="URL" class="grow" error={errors.url} hint="http or https; receives a POST per change.">{(id, d, bad) => <input id={id} type="url" class="mono" aria-describedby={d} aria-invalid={bad} placeholder="https://example.com/hooks/plinth" value={f.url} onInput={(e) => set('url', e.currentTarget.value)} />}</Field>
      </div>
      <fieldset class="field" aria-describedby={errors.collections ? collsId + '-err' : undefined}>
        <legend>Collections</legend>
        <div class="check-grid">
          <Check label="All collections (*)" checked={all} onChange={(on) => toggle('collections', '*', on)} />
          {userColls.map((c) => (
            <Check key={c.id} label={c.name} checked={all || f.collections.includes(c.name) || f.collections.includes(c.id)} disabled={all}
              onChange={(on) => setF((p) => ({ ...p, collections: on ? [...p.collections.filter((x) => x !== c.name && x !== c.id), c.name] : p.collections.filter((x) => x !== c.name && x !== c.id) }))} />
          ))}
        </div>
        {errors.collections && <span id={collsId + '-err'} class="error" role="alert">{errors.collections}</span>}
      </fieldset>
      <fieldset class="field" aria-describedby={errors.events ? eventsId + '-err' : undefined}>
        <legend>Events</legend>
        <div class="check-grid">
          {EVENTS.map(([v, label]) => <Check key={v} label={label} checked={f.events.includes(v)} onChange={(on) => toggle('events', v, on)} />)}
        </div>
        {errors.events && <span id={eventsId + '-err'} class="error" role="alert">{errors.events}</span>}
      </fieldset>
      <CodeField class="filter-field" label="Filter" lang="filter" rows={1} value={initial.filter} onChange={(v) => { filterRef.current = v }}
        onEnter={() => submit()} completions={words} error={errors.filter}
        hint={errors.filter ? undefined : 'Optional: only records matching it are sent, e.g. status = "published". Checked when saved.'} />
      <Check label="Active" checked={f.active} onChange={(v) => set('active', v)} />
      <ErrorText>{error}</ErrorText>
      <div class="row tight">
        <button class="primary" type="submit" disabled={busy}>{isNew ? 'Create webhook' : 'Save webhook'}</button>
        <button type="button" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  )
}

// Deliveries lists a webhook's latest deliveries; failed and cancelled
// ones can be sent again (same webhook-id).
function Deliveries({ hook, onClose }) {
  const [items, setItems] = useState(null)
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(false)
  const seq = useRef(0)
  const headRef = useRef(null)
  const load = async () => {
    const n = ++seq.current
    setLoading(true)
    try {
      const r = await api.listDeliveries(hook.id)
      if (n !== seq.current) return
      setItems(r.items || [])
      setError('')
    } catch (e) {
      if (n === seq.current) setError(api.errorMessage(e))
    } finally {
      if (n === seq.current) setLoading(false)
    }
  }
  useEffect(() => { load(); headRef.current?.focus() }, [hook.id])
  const retry = async (d) => {
    try { await api.retryDelivery(hook.id, d.id); notify(`Delivery ${d.id} queued again.`); load() } catch (e) { setError(api.errorMessage(e)) }
  }
  const titleId = 'deliveries-' + hook.id
  return (
    <section class="card deliveries" aria-labelledby={titleId}>
      <header class="page-head">
        <h2 id={titleId} ref={headRef} tabIndex={-1}>Deliveries of {hook.name}</h2>
        <div class="row tight">
          <button type="button" onClick={load} disabled={loading}>Reload deliveries</button>
          <button type="button" onClick={onClose}>Close deliveries</button>
        </div>
      </header>
      <ErrorText>{error}</ErrorText>
      <div class="table-wrap">
        <table aria-label={`Deliveries of ${hook.name}`} aria-busy={loading}>
          <thead><tr><th scope="col">Status</th><th scope="col">Event</th><th scope="col">Attempts</th><th scope="col">Response code</th>
            <th scope="col">Excerpt or error</th><th scope="col">Next attempt (UTC)</th><th scope="col">Created (UTC)</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {(items || []).map((d) => (
              <tr key={d.id}>
                <td><span class={'state state-' + d.status}>{d.status}</span></td>
                <td class="small"><span class="mono nowrap">{d.type}</span><br /><span class="muted mono hook-id" title="webhook-id">{d.id}</span></td>
                <td class="num">{d.attempts}</td>
                <td class="num">{d.lastStatus || '—'}</td>
                <td><span class={'excerpt mono small' + (d.lastError ? ' error-text' : '')} title={d.lastError || d.lastResponse}>{d.lastError || d.lastResponse || '—'}</span></td>
                <td class="small mono date">{d.nextAttempt || '—'}</td>
                <td class="small mono date">{d.created}</td>
                <td>{RETRYABLE.has(d.status) && <button type="button" class="link" aria-label={`Retry ${d.id}`} onClick={() => retry(d)}>Retry</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {items && items.length === 0 && <p class="empty">No deliveries yet: they appear here once a matching record changes.</p>}
      </div>
    </section>
  )
}
