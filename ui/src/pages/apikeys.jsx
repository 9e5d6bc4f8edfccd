import { useEffect, useState } from 'preact/hooks'
import * as api from '../api.js'
import { notify } from '../state.js'
import { Field, Dialog, ErrorText } from '../widgets.jsx'

export function APIKeys() {
  const [keys, setKeys] = useState(null)
  const [error, setError] = useState('')
  const [name, setName] = useState('')
  const [scopes, setScopes] = useState('*:list, *:view')
  const [days, setDays] = useState('')
  const [errors, setErrors] = useState({})
  const [created, setCreated] = useState(null)
  const [revoke, setRevoke] = useState(null)
  const load = () => api.listAPIKeys().then((r) => setKeys(r.items)).catch((e) => setError(api.errorMessage(e)))
  useEffect(() => { load() }, [])
  const create = async (e) => {
    e.preventDefault()
    setErrors({})
    setError('')
    const body = { name, scopes: scopes.split(',').map((s) => s.trim()).filter(Boolean) }
    if (days) body.duration = Number(days) * 86400
    try {
      setCreated(await api.createAPIKey(body))
      setName('')
      load()
    } catch (err) {
      setErrors(api.fieldErrors(err))
      setError(api.errorMessage(err))
    }
  }
  const doRevoke = async () => {
    const k = revoke
    setRevoke(null)
    try { await api.revokeAPIKey(k.id); notify(`Key ${k.name} revoked.`); load() } catch (err) { setError(api.errorMessage(err)) }
  }
  return (
    <section>
      <h1>API keys</h1>
      <p class="hint">For servers: send a key as <code>X-API-Key</code>. A key is shown once, when it is created.</p>
      <form class="card" onSubmit={create}>
        <h2>New key</h2>
        <div class="row">
          <Field label="Key name" error={errors.name}>{(id, d) => <input id={id} aria-describedby={d} required value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
          <Field label="Scopes" class="grow" error={errors.scopes} hint="collection:action, comma-separated; * for all collections; actions list, view, create, update, delete or *.">{(id, d) => <input id={id} aria-describedby={d} class="mono" value={scopes} onInput={(e) => setScopes(e.currentTarget.value)} />}</Field>
          <Field label="Expires in days" error={errors.duration} hint="Empty: never.">{(id, d) => <input id={id} aria-describedby={d} type="number" min="1" value={days} onInput={(e) => setDays(e.currentTarget.value)} />}</Field>
        </div>
        <button class="primary" type="submit">Create key</button>
      </form>
      <ErrorText>{error}</ErrorText>
      {created && (
        <div class="card notice" role="region" aria-label="New key">
          <p>Copy the key of <strong>{created.name}</strong> now; it is not shown again.</p>
          <Field label="New API key">{(id) => <input id={id} class="mono" readOnly value={created.key} onFocus={(e) => e.currentTarget.select()} />}</Field>
          <button type="button" onClick={() => { navigator.clipboard?.writeText(created.key); notify('Copied.') }}>Copy</button>
          <button type="button" onClick={() => setCreated(null)}>Done</button>
        </div>
      )}
      <table>
        <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Scopes</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {(keys || []).map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td><td class="mono">{k.prefix}</td><td class="mono small">{(k.scopes || []).join(', ')}</td>
              <td>{k.expires || 'never'}</td><td>{k.lastUsed || 'never'}</td>
              <td><button type="button" class="danger-link" aria-label={`Revoke ${k.name}`} onClick={() => setRevoke(k)}>Revoke</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {keys && keys.length === 0 && <p class="empty">No API keys.</p>}
      {revoke && (
        <Dialog title={`Revoke ${revoke.name}?`} onClose={() => setRevoke(null)}>
          <p>Servers using this key lose access within seconds.</p>
          <div class="row actions"><button type="button" class="danger" onClick={doRevoke}>Revoke</button><button type="button" onClick={() => setRevoke(null)}>Cancel</button></div>
        </Dialog>
      )}
    </section>
  )
}
