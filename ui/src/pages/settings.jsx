import { useEffect, useState } from 'preact/hooks'
import * as api from '../api.js'
import { notify } from '../state.js'
import { Field, Check, ErrorText, ListInput } from '../widgets.jsx'
import { TestEmail } from '../testemail.jsx'

// changes is what differs in after from before: nested objects key by
// key, anything else (arrays included) whole. Saving PATCHes only that.
function changes(before, after) {
  const out = {}
  const isObj = (v) => v && typeof v === 'object' && !Array.isArray(v)
  for (const [k, v] of Object.entries(after || {})) {
    const b = before?.[k]
    if (isObj(v) && isObj(b)) {
      const sub = changes(b, v)
      if (Object.keys(sub).length) out[k] = sub
    } else if (JSON.stringify(v) !== JSON.stringify(b)) out[k] = v
  }
  return out
}

// at returns the object at a dotted path ("backups.s3") of o.
const at = (o, path) => path.split('.').reduce((v, k) => v?.[k], o)

// withAt returns a copy of o with fn applied to the object at path.
function withAt(o, path, fn) {
  const [k, ...rest] = path.split('.')
  return { ...o, [k]: rest.length ? withAt(o?.[k] || {}, rest.join('.'), fn) : fn(o?.[k] || {}) }
}

export function Settings() {
  const [base, setBase] = useState(null) // the settings as saved
  const [s, setS] = useState(null)
  const [errors, setErrors] = useState({})
  const [error, setError] = useState('')
  // Write-only secrets: typed here, sent only when typed, never shown.
  const [secrets, setSecrets] = useState({}) // {'smtp.password', 's3.secret', 'backups.s3.secret'}
  const loaded = (v) => { setBase(v); setS(v) }
  useEffect(() => { api.getSettings().then(loaded).catch((e) => setError(api.errorMessage(e))) }, [])
  if (!s) return <section><h1>Settings</h1><ErrorText>{error}</ErrorText>{!error && <p>Loading…</p>}</section>
  const set = (path, key, v) => setS((p) => withAt(p, path, (g) => ({ ...g, [key]: v })))
  const setSecret = (path, v) => setSecrets((p) => ({ ...p, [path]: v }))
  const rules = s.rateLimits?.rules || []
  const setRule = (i, key, v) => set('rateLimits', 'rules', rules.map((r, j) => (j === i ? { ...r, [key]: v } : r)))
  // Errors shown next to a field; the others are listed above Save.
  const shown = new Set()
  const fe = (key) => { shown.add(key); return errors[key] }
  const save = async (e) => {
    e.preventDefault()
    setError('')
    setErrors({})
    let body = changes(base, s)
    for (const [path, v] of Object.entries(secrets)) {
      if (!v) continue
      const i = path.lastIndexOf('.')
      body = withAt(body, path.slice(0, i), (g) => ({ ...g, [path.slice(i + 1)]: v }))
    }
    try {
      loaded(await api.updateSettings(body))
      setSecrets({})
      notify('Settings saved.')
    } catch (err) {
      const f = api.fieldErrors(err)
      setErrors(f)
      setError(api.errorMessage(err))
    }
  }
  const text = (group, key, label, type = 'text', hint) => (
    <Field label={label} hint={hint} error={fe(group + '.' + key)}>{(id, d, bad) => <input id={id} aria-describedby={d} aria-invalid={bad} type={type} value={at(s, group)?.[key] ?? ''}
      onInput={(e) => set(group, key, type === 'number' ? Number(e.currentTarget.value) : e.currentTarget.value)} />}</Field>
  )
  const secret = (path, label, hint) => (
    <Field label={label} hint={secrets[path] ? 'Replaced when you save.' : hint} error={fe(path)}>{(id, d, bad) => <input id={id} aria-describedby={d} aria-invalid={bad} type="password" autocomplete="new-password"
      value={secrets[path] || ''} onInput={(e) => setSecret(path, e.currentTarget.value)} />}</Field>
  )
  // bucket is the form of an S3 setting (s3 or backups.s3), PocketBase's
  // shape; its fields show when it is enabled.
  const bucket = (path) => {
    const c = at(s, path) || {}
    return (
      <>
        <Check label="Use S3-compatible storage" checked={c.enabled} onChange={(v) => set(path, 'enabled', v)} />
        <ErrorText>{fe(path + '.enabled')}</ErrorText>
        {c.enabled && (
          <div class="s3-fields">
            {text(path, 'endpoint', 'Endpoint', 'text', <>A URL (<code>https://s3.eu-west-1.amazonaws.com</code>, <code>http://127.0.0.1:9000</code>) or a bare host[:port], reached over https.</>)}
            {text(path, 'bucket', 'Bucket', 'text', 'It must exist; checked when you save.')}
            {text(path, 'region', 'Region', 'text', 'e.g. us-east-1; empty: asked of the service.')}
            {text(path, 'accessKey', 'Access key', 'text', 'Empty, with no secret: anonymous requests.')}
            {secret(path + '.secret', 'Secret', 'Write-only: stored encrypted and never shown, so this field is always empty. Leave it empty to keep the stored secret, if any.')}
            <Check label="Force path-style addressing" checked={c.forcePathStyle} onChange={(v) => set(path, 'forcePathStyle', v)} />
            <span class="hint">host/bucket/key instead of bucket.host/key: needed by MinIO and most self-hosted services.</span>
          </div>
        )}
      </>
    )
  }
  // other runs last in the render, after every field has taken its error.
  const other = () => Object.entries(errors).filter(([k]) => !k.startsWith('rateLimits') && !shown.has(k))
  return (
    <section>
      <h1>Settings</h1>
      <form onSubmit={save}>
        <fieldset>
          <legend>Application</legend>
          {text('meta', 'appName', 'Application name')}
          {text('meta', 'appURL', 'Application URL', 'url')}
          {text('meta', 'senderName', 'Sender name')}
          {text('meta', 'senderAddress', 'Sender address', 'email')}
        </fieldset>
        <fieldset>
          <legend>Mail server (SMTP)</legend>
          <Check label="Send emails through SMTP (off: they go to the dev mailbox)" checked={s.smtp?.enabled} onChange={(v) => set('smtp', 'enabled', v)} />
          {text('smtp', 'host', 'SMTP host')}
          {text('smtp', 'port', 'SMTP port', 'number')}
          {text('smtp', 'username', 'SMTP username')}
          {secret('smtp.password', 'SMTP password', 'Stored encrypted; leave empty to keep the current one.')}
          <Field label="SMTP auth method">{(id) => (
            <select id={id} value={s.smtp?.authMethod || 'PLAIN'} onChange={(e) => set('smtp', 'authMethod', e.currentTarget.value)}>
              <option value="PLAIN">PLAIN</option><option value="LOGIN">LOGIN</option>
            </select>
          )}</Field>
          <Check label="Implicit TLS" checked={s.smtp?.tls} onChange={(v) => set('smtp', 'tls', v)} />
          {text('smtp', 'localName', 'HELO name')}
          <div class="row">
            <TestEmail />
            <span class="hint">Uses the saved settings: save your changes first.</span>
          </div>
        </fieldset>
        <fieldset>
          <legend>Rate limits</legend>
          <Check label="Enable rate limits" checked={s.rateLimits?.enabled} onChange={(v) => set('rateLimits', 'enabled', v)} />
          <table class="compact">
            <thead><tr><th scope="col">Label</th><th scope="col">Max requests</th><th scope="col">Per seconds</th><th scope="col">Audience</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {rules.map((r, i) => (
                <tr key={i}>
                  <td><input aria-label={`Rule ${i + 1} label`} value={r.label} onInput={(e) => setRule(i, 'label', e.currentTarget.value)} /></td>
                  <td><input aria-label={`Rule ${i + 1} max requests`} type="number" value={r.maxRequests} onInput={(e) => setRule(i, 'maxRequests', Number(e.currentTarget.value))} /></td>
                  <td><input aria-label={`Rule ${i + 1} duration in seconds`} type="number" value={r.duration} onInput={(e) => setRule(i, 'duration', Number(e.currentTarget.value))} /></td>
                  <td><select aria-label={`Rule ${i + 1} audience`} value={r.audience || ''} onChange={(e) => setRule(i, 'audience', e.currentTarget.value)}>
                    <option value="">everyone</option><option value="@guest">guests</option><option value="@auth">signed in</option></select></td>
                  <td><button type="button" class="danger-link" aria-label={`Remove rule ${i + 1}`} onClick={() => set('rateLimits', 'rules', rules.filter((_, j) => j !== i))}>Remove</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <ErrorText>{Object.entries(errors).filter(([k]) => k.startsWith('rateLimits')).map(([k, v]) => k + ': ' + v).join('; ')}</ErrorText>
          <button type="button" onClick={() => set('rateLimits', 'rules', [...rules, { label: '', maxRequests: 100, duration: 10, audience: '' }])}>Add rate limit rule</button>
        </fieldset>
        <fieldset>
          <legend>Trusted proxy</legend>
          <p class="hint">Decides the client IP (rate limits, sign-in throttling, logs) behind a reverse proxy. Name headers only when every request comes through the proxy: a client that reaches the server directly can forge them.</p>
          <Field label="Client IP headers" hint="Comma-separated, tried in order, e.g. X-Forwarded-For, X-Real-IP. Empty: the connection's address." error={fe('trustedProxy.headers')}>{(id, d) => (
            <ListInput id={id} desc={d} value={s.trustedProxy?.headers} onChange={(v) => set('trustedProxy', 'headers', v)} />
          )}</Field>
          <Check label="Use the leftmost IP of the header" checked={s.trustedProxy?.useLeftmostIP} onChange={(v) => set('trustedProxy', 'useLeftmostIP', v)} />
          <Field label="Trusted proxy addresses" hint="Comma-separated IPs or CIDR ranges of the proxies; empty: any." error={fe('trustedProxy.trustedCIDRs')}>{(id, d) => (
            <ListInput id={id} desc={d} value={s.trustedProxy?.trustedCIDRs} onChange={(v) => set('trustedProxy', 'trustedCIDRs', v)} />
          )}</Field>
        </fieldset>
        <fieldset>
          <legend>Batch API</legend>
          <Check label="Enable /api/batch" checked={s.batch?.enabled} onChange={(v) => set('batch', 'enabled', v)} />
          {text('batch', 'maxRequests', 'Max requests per batch', 'number')}
          {text('batch', 'timeout', 'Timeout (seconds)', 'number')}
          {text('batch', 'maxBodySize', 'Max body size (bytes)', 'number')}
        </fieldset>
        <fieldset>
          <legend>File storage</legend>
          <p class="hint">Where the files of file fields are kept: the local folder (<code>storage</code> in the data directory) or an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Backblaze B2…).</p>
          {bucket('s3')}
          <p class="hint">Switching does not move files. After turning S3 on, files uploaded before stay in the local folder and are still served from it (deleting them deletes them there too); new uploads go to the bucket. After turning it off, files uploaded to the bucket are no longer found until they are copied back.
            A bucket set at start-up (<code>PLINTH_S3_*</code> variables or <code>--s3-*</code> flags) takes precedence: these settings are then stored but not used, and the server logs a warning.</p>
          <StorageTest filesystem="storage" />
        </fieldset>
        <fieldset>
          <legend>Backups storage</legend>
          <p class="hint">Where backup archives are kept: by default with the files, under <code>_backups/</code>; or in their own S3-compatible bucket (also under <code>_backups/</code>).</p>
          {bucket('backups.s3')}
          <p class="hint">Archives made before turning it on stay listed and can still be downloaded, restored and deleted; new ones go to the bucket. Turned off again, the bucket's archives are no longer listed.</p>
          <StorageTest filesystem="backups" />
        </fieldset>
        <ErrorText>{other().map(([k, v]) => k + ': ' + v).join('; ')}</ErrorText>
        <ErrorText>{error}</ErrorText>
        <button class="primary" type="submit">Save settings</button>
      </form>
    </section>
  )
}

// StorageTest tests the saved storage of files ("storage") or backups
// ("backups") with POST /api/settings/test/s3: a write, read back and
// delete.
function StorageTest({ filesystem }) {
  const [result, setResult] = useState(null) // {ok, msg}
  const [busy, setBusy] = useState(false)
  const what = filesystem === 'backups' ? 'backups storage' : 'file storage'
  const test = async () => {
    setBusy(true)
    setResult(null)
    try {
      await api.testStorage(filesystem)
      setResult({ ok: true, msg: `The ${what} took a test file, served it back and deleted it.` })
    } catch (e) {
      setResult({ ok: false, msg: (filesystem === 'backups' ? 'Backups storage' : 'Storage') + ' test failed: ' + api.errorMessage(e) })
    } finally {
      setBusy(false)
    }
  }
  return (
    <>
      <div class="row">
        <button type="button" disabled={busy} onClick={test}>{busy ? 'Testing…' : 'Test connection'}</button>
        <span class="hint">Tests the saved storage: save your changes first.</span>
      </div>
      {result && (result.ok ? <p role="status" class="notice">{result.msg}</p> : <p class="error" role="alert">{result.msg}</p>)}
    </>
  )
}
