import { useState } from 'preact/hooks'
import * as api from '../api.js'
import { Field } from '../widgets.jsx'
import { go } from '../state.js'

// Install creates the first superuser with the token of the link that
// `plinth serve` printed (#/install/TOKEN; the fragment is never sent to
// a server, and the token goes in a POST body).
export function Install({ token }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [confirm, setConfirm] = useState('')
  const [errors, setErrors] = useState({})
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (e) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    setErrors({})
    try {
      await api.install(token, email, password, confirm)
      await api.signIn(email, password)
      // Drop the spent token from the address bar and history.
      history.replaceState(null, '', location.pathname)
      go('')
    } catch (err) {
      const fields = api.fieldErrors(err)
      setErrors(fields)
      // Field errors show under their inputs; the summary only says why.
      setError(Object.keys(fields).some((k) => ['email', 'password', 'passwordConfirm'].includes(k))
        ? 'Check the fields above.' : api.errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <main class="centered" id="main">
      <form class="card narrow" onSubmit={submit} aria-labelledby="install-title">
        <h1 id="install-title">Create the first superuser</h1>
        <p class="muted">This account manages the whole backend. The link you opened works once.</p>
        <Field label="Email" error={errors.email}>{(id) => <input id={id} type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}</Field>
        <Field label="Password" error={errors.password} hint="At least 8 characters.">{(id) => <input id={id} type="password" autocomplete="new-password" required minLength={8} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />}</Field>
        <Field label="Confirm password" error={errors.passwordConfirm}>{(id) => <input id={id} type="password" autocomplete="new-password" required value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} />}</Field>
        {error && <p class="error" role="alert">{error}</p>}
        <button class="primary" type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create superuser and sign in'}</button>
        <p class="small"><a href="#/">Already have an account? Sign in</a></p>
      </form>
    </main>
  )
}
