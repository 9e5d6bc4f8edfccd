import { useState } from 'preact/hooks'
import * as api from '../api.js'
import { Field } from '../widgets.jsx'

export function Login() {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (e) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    try {
      await api.signIn(email, password)
    } catch (err) {
      setError(err?.status === 400 ? 'Wrong email or password.' : api.errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <main class="centered" id="main">
      <form class="card narrow" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Plinth</h1>
        <Field label="Email">{(id) => <input id={id} type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}</Field>
        <Field label="Password">{(id) => <input id={id} type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />}</Field>
        {error && <p class="error" role="alert">{error}</p>}
        <button class="primary" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  )
}
