import { useEffect, useState } from 'preact/hooks'
import * as api from '../api.js'
import { notify } from '../state.js'
import { Field, Check, ErrorText, ListInput } from '../widgets.jsx'
import { TestEmail } from '../testemail.jsx'

export function Settings() {
  const [s, setS] = useState(null)
  const [errors, setErrors] = useState({})
  const [error, setError] = useState('')
  const [smtpPassword, setSmtpPassword] = useState('')
  useEffect(() => { api.getSettings().then(setS).catch((e) => setError(api.errorMessage(e))) }, [])
  if (!s) return <section><h1>Settings</h1><ErrorText>{error}</ErrorText>{!error && <p>Loading…</p>}</section>
  const set = (group, key, v) => setS((p) => ({ ...p, [group]: { ...p[group], [key]: v } }))
  const rules = s.rateLimits?.rules || []
  const setRule = (i, key, v) => set('rateLimits', 'rules', rules.map((r, j) => (j === i ? { ...r, [key]: v } : r)))
  const save = async (e) => {
    e.preventDefault()
    setError('')
    setErrors({})
    const body = structuredClone(s)
    if (smtpPassword) body.smtp.password = smtpPassword
    else delete body.smtp.password
    try {
      setS(await api.updateSettings(body))
      setSmtpPassword('')
      notify('Settings saved.')
    } catch (err) {
      setErrors(api.fieldErrors(err))
      setError(api.errorMessage(err))
    }
  }
  const text = (group, key, label, type = 'text') => (
    <Field label={label} error={errors[group + '.' + key]}>{(id, d) => <input id={id} aria-describedby={d} type={type} value={s[group]?.[key] ?? ''}
      onInput={(e) => set(group, key, type === 'number' ? Number(e.currentTarget.value) : e.currentTarget.value)} />}</Field>
  )
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
          <Field label="SMTP password" hint="Stored encrypted; leave empty to keep the current one." error={errors['smtp.password']}>{(id, d) => <input id={id} aria-describedby={d} type="password" autocomplete="new-password" value={smtpPassword} onInput={(e) => setSmtpPassword(e.currentTarget.value)} />}</Field>
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
          <Field label="Client IP headers" hint="Comma-separated, tried in order, e.g. X-Forwarded-For, X-Real-IP. Empty: the connection's address." error={errors['trustedProxy.headers']}>{(id, d) => (
            <ListInput id={id} desc={d} value={s.trustedProxy?.headers} onChange={(v) => set('trustedProxy', 'headers', v)} />
          )}</Field>
          <Check label="Use the leftmost IP of the header" checked={s.trustedProxy?.useLeftmostIP} onChange={(v) => set('trustedProxy', 'useLeftmostIP', v)} />
          <Field label="Trusted proxy addresses" hint="Comma-separated IPs or CIDR ranges of the proxies; empty: any." error={errors['trustedProxy.trustedCIDRs']}>{(id, d) => (
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
        <ErrorText>{error}</ErrorText>
        <button class="primary" type="submit">Save settings</button>
      </form>
      <Storage />
    </section>
  )
}

// Storage tests the file storage (POST /api/settings/test/s3). Where the
// files live (a local folder or an S3 bucket) is chosen when the server
// starts, not in these settings.
function Storage() {
  const [result, setResult] = useState(null) // {ok, msg}
  const [busy, setBusy] = useState(false)
  const test = async () => {
    setBusy(true)
    setResult(null)
    try {
      await api.testStorage('storage')
      setResult({ ok: true, msg: 'The file storage took a test file, served it back and deleted it.' })
    } catch (e) {
      setResult({ ok: false, msg: 'Storage test failed: ' + api.errorMessage(e) })
    } finally {
      setBusy(false)
    }
  }
  return (
    <fieldset>
      <legend>File storage (S3)</legend>
      <p class="hint">Uploaded files and backups are kept in a local folder or in an S3-compatible bucket, chosen when the server starts (the same storage holds both):
        the <code>PLINTH_S3_ENDPOINT</code>, <code>PLINTH_S3_BUCKET</code>, <code>PLINTH_S3_REGION</code>, <code>PLINTH_S3_ACCESS_KEY</code>, <code>PLINTH_S3_SECRET</code> and <code>PLINTH_S3_FORCE_PATH_STYLE</code> variables, or the <code>--s3-*</code> flags of <code>plinth serve</code>.
        This server does not take them as settings, so the secret never passes through the dashboard.</p>
      <div class="row">
        <button type="button" disabled={busy} onClick={test}>{busy ? 'Testing…' : 'Test connection'}</button>
      </div>
      {result && (result.ok ? <p role="status" class="notice">{result.msg}</p> : <p class="error" role="alert">{result.msg}</p>)}
    </fieldset>
  )
}
