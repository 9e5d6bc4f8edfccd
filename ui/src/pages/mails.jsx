import { useEffect, useState } from 'preact/hooks'
import * as api from '../api.js'
import { ErrorText } from '../widgets.jsx'

// Mails lists the dev mailbox: emails kept in memory while SMTP is off.
// HTML bodies are shown as source text, never rendered.
export function Mails() {
  const [mails, setMails] = useState(null)
  const [open, setOpen] = useState(null)
  const [error, setError] = useState('')
  const load = () => api.listMails().then((m) => { setMails(m); setError('') }).catch((e) => setError(api.errorMessage(e)))
  useEffect(() => { load() }, [])
  return (
    <section>
      <header class="page-head"><h1>Dev mailbox</h1><button type="button" onClick={load}>Refresh</button></header>
      <p class="hint">Emails sent while SMTP is off land here (the last 100, in memory).</p>
      <ErrorText>{error}</ErrorText>
      <table>
        <thead><tr><th scope="col">Time</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead>
        <tbody>
          {(mails || []).map((m) => (
            <tr key={m.id} class={open?.id === m.id ? 'selected' : ''}>
              <td class="small">{m.time}</td><td>{(m.to || []).join(', ')}</td>
              <td><button type="button" class="link" onClick={() => setOpen(m)}>{m.subject || '(no subject)'}</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {mails && mails.length === 0 && <p class="empty">No emails yet.</p>}
      {open && (
        <article class="card" aria-label="Email">
          <h2>{open.subject}</h2>
          <p class="small">From {open.from} to {(open.to || []).join(', ')}</p>
          <pre class="mail">{open.text || open.html}</pre>
        </article>
      )}
    </section>
  )
}
