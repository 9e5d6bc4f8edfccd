// TestEmail is a "Send test email" button: it asks for an address and
// calls POST /api/settings/test/email with the template (verification,
// password-reset, email-change, otp or login-alert) and collection; the
// server's answer (an SMTP error, say) shows in the dialog.
import { useState } from 'preact/hooks'
import * as api from './api.js'
import { notify } from './state.js'
import { Field, Dialog, ErrorText } from './widgets.jsx'

export const TEMPLATES = [
  ['verification', 'Verification'],
  ['password-reset', 'Password reset'],
  ['email-change', 'Email change confirmation'],
  ['otp', 'One-time password (OTP)'],
  ['login-alert', 'Login alert'],
]

export function TestEmail({ template, collection, label }) {
  const [open, setOpen] = useState(false)
  const [email, setEmail] = useState(() => api.pb.authStore.record?.email || '')
  const [kind, setKind] = useState(template || 'verification')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const name = label || 'Send test email'
  // No <form>: the button may sit inside another form (the collection
  // editor), and a nested form's submit would reach it.
  const send = async () => {
    setBusy(true)
    setError('')
    try {
      await api.testEmail(email, kind, collection)
      setOpen(false)
      notify(`Test email sent to ${email}.`)
    } catch (err) {
      setError(api.errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <>
      <button type="button" onClick={() => { setError(''); setOpen(true) }}>{name}</button>
      {open && (
        <Dialog title={name} onClose={() => setOpen(false)}>
          <div>
            <p class="hint">The server renders this kind of email with sample values and sends it through the <strong>saved</strong> mail settings (with SMTP off it lands in the dev mailbox).
              {collection && ' It uses this collection\'s saved template: save the collection first to test an edited subject or body.'}</p>
            {!template && (
              <Field label="Email template">{(id) => (
                <select id={id} value={kind} onChange={(ev) => setKind(ev.currentTarget.value)}>
                  {TEMPLATES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
                </select>
              )}</Field>
            )}
            <Field label="Send to address">{(id) => <input id={id} type="email" autocomplete="email" value={email} onInput={(ev) => setEmail(ev.currentTarget.value)}
              onKeyDown={(ev) => { if (ev.key === 'Enter') { ev.preventDefault(); send() } }} />}</Field>
            <ErrorText>{error}</ErrorText>
            <div class="row actions">
              <button type="button" class="primary" disabled={busy} onClick={send}>{busy ? 'Sending…' : 'Send'}</button>
              <button type="button" onClick={() => setOpen(false)}>Cancel</button>
            </div>
          </div>
        </Dialog>
      )}
    </>
  )
}
