import { useRef, useState } from 'preact/hooks'
import * as api from './api.js'
import { Field, Dialog, ErrorText } from './widgets.jsx'

// ImpersonateDialog has the superuser issue a token that acts as an auth
// record (POST /api/collections/{c}/impersonate/{id}, through the SDK),
// then shows it once. The token lives in this dialog's state only: not in
// the SDK's auth store, localStorage or a URL; closing the dialog drops it.
export function ImpersonateDialog({ c, record, onClose }) {
  const [duration, setDuration] = useState('')
  const [issued, setIssued] = useState(null) // {token, expires}
  const [error, setError] = useState('')
  const [durationError, setDurationError] = useState('')
  const [copied, setCopied] = useState('')
  const [busy, setBusy] = useState(false)
  const tokenField = useRef(null)
  const who = record.email || record.username || record.id
  const def = c.authToken?.duration

  const issue = async (e) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    setDurationError('')
    try {
      const client = await api.impersonate(c.name, record.id, duration === '' ? undefined : Number(duration))
      const token = client.authStore.token
      setIssued({ token, expires: api.tokenExpiry(token) })
    } catch (err) {
      setDurationError(api.fieldErrors(err).duration || '')
      setError(api.errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  const copy = async () => {
    tokenField.current?.select()
    try {
      await navigator.clipboard.writeText(issued.token)
      setCopied('Token copied.')
    } catch {
      // No clipboard API (or no permission): copy the selection instead.
      setCopied(document.execCommand('copy') ? 'Token copied.' : 'Copy failed: the token is selected, press Ctrl+C.')
    }
  }

  return (
    <Dialog title={`Impersonate ${who}`} onClose={onClose}>
      {!issued ? (
        <form onSubmit={issue}>
          <p>Issues an auth token of the <strong>{c.name}</strong> collection that acts as <strong>{who}</strong>: its rules, its records.</p>
          <Field label="Token duration (seconds)" error={durationError}
            hint={`Empty: the collection's auth token duration${def ? ` (${def} s)` : ''}.`}>
            {(id, d) => <input id={id} aria-describedby={d} aria-invalid={durationError ? 'true' : undefined} type="number" min="0" step="1"
              value={duration} onInput={(e) => setDuration(e.currentTarget.value)} />}
          </Field>
          <ErrorText>{durationError ? '' : error}</ErrorText>
          <div class="row actions">
            <button type="submit" class="primary" disabled={busy}>{busy ? 'Issuing…' : 'Issue token'}</button>
            <button type="button" onClick={onClose}>Cancel</button>
          </div>
        </form>
      ) : (
        <>
          <p class="warning">
            This token acts as <strong>{who}</strong> in every API call until {issued.expires}. It cannot be
            refreshed, and it is shown only now: copy it, and keep it as secret as a password.
          </p>
          <Field label="Impersonation token">{(id) => <input id={id} ref={tokenField} class="mono" readOnly value={issued.token} onFocus={(e) => e.currentTarget.select()} />}</Field>
          <p role="status" class="small">{copied}</p>
          <div class="row actions">
            <button type="button" class="primary" onClick={copy}>Copy</button>
            <button type="button" onClick={onClose}>Done</button>
          </div>
        </>
      )}
    </Dialog>
  )
}
