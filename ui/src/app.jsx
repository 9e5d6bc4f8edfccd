import { useEffect, useState } from 'preact/hooks'
import { route, signedIn, collections, collectionsError, loadCollections, toast, go } from './state.js'
import * as api from './api.js'
import { Login } from './pages/login.jsx'
import { Install } from './pages/install.jsx'
import { Records } from './pages/records.jsx'
import { CollectionEditor } from './pages/collection.jsx'
import { Settings } from './pages/settings.jsx'
import { APIKeys } from './pages/apikeys.jsx'
import { Mails } from './pages/mails.jsx'
import { ImportExport } from './pages/import.jsx'
import { Logs } from './pages/logs.jsx'

export function App() {
  const r = route.value
  if (r[0] === 'install') return <Install token={r[1] || ''} />
  if (!signedIn.value) return <Login />
  return <Shell />
}

function Shell() {
  useEffect(() => {
    api.refreshAuth()
    loadCollections()
  }, [])
  const r = route.value
  let page
  switch (r[0]) {
    case 'c':
      page = r[2] === 'edit' ? <CollectionEditor key={'edit:' + r[1]} name={r[1]} /> : <Records key={r[1]} name={r[1]} />
      break
    case 'new-collection': page = <CollectionEditor key="new" />; break
    case 'import': page = <ImportExport />; break
    case 'settings': page = <Settings />; break
    case 'api-keys': page = <APIKeys />; break
    case 'mails': page = <Mails />; break
    case 'logs': page = <Logs />; break
    case 'metrics': page = <Lazy key="metrics" page="metrics" />; break
    case 'webhooks': page = <Lazy key="webhooks" page="webhooks" />; break
    case 'backups': page = <Lazy key="backups" page="backups" />; break
    case 'crons': page = <Lazy key="crons" page="crons" />; break
    case 'superusers': page = <Records key="_superusers" name="_superusers" />; break
    default: page = <Welcome />
  }
  const user = api.pb.authStore.record
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus() }}>Skip to content</a>
      <nav class="sidebar" aria-label="Collections and settings">
        <div class="brand">Plinth</div>
        <h2 class="nav-title">Collections</h2>
        {collectionsError.value && <p class="error" role="alert">{collectionsError.value}</p>}
        <ul class="nav-list">
          {collections.value.filter((c) => !c.system).map((c) => (
            <li key={c.id}>
              <a href={'#/c/' + encodeURIComponent(c.name)} aria-current={r[0] === 'c' && r[1] === c.name ? 'page' : undefined}>
                {c.name} <span class="muted small">{c.type}</span>
              </a>
            </li>
          ))}
        </ul>
        <a class="button small" href="#/new-collection">New collection</a>
        <h2 class="nav-title">System</h2>
        <ul class="nav-list">
          <li><a href="#/superusers" aria-current={r[0] === 'superusers' ? 'page' : undefined}>Superusers</a></li>
          <li><a href="#/api-keys" aria-current={r[0] === 'api-keys' ? 'page' : undefined}>API keys</a></li>
          <li><a href="#/logs" aria-current={r[0] === 'logs' ? 'page' : undefined}>Logs</a></li>
          <li><a href="#/metrics" aria-current={r[0] === 'metrics' ? 'page' : undefined}>Metrics</a></li>
          <li><a href="#/webhooks" aria-current={r[0] === 'webhooks' ? 'page' : undefined}>Webhooks</a></li>
          <li><a href="#/backups" aria-current={r[0] === 'backups' ? 'page' : undefined}>Backups</a></li>
          <li><a href="#/crons" aria-current={r[0] === 'crons' ? 'page' : undefined}>Crons</a></li>
          <li><a href="#/settings" aria-current={r[0] === 'settings' ? 'page' : undefined}>Settings</a></li>
          <li><a href="#/mails" aria-current={r[0] === 'mails' ? 'page' : undefined}>Dev mailbox</a></li>
          <li><a href="#/import" aria-current={r[0] === 'import' ? 'page' : undefined}>Import/export schema</a></li>
        </ul>
        <div class="whoami">
          <span class="small">{user?.email}</span>
          <button type="button" class="link" onClick={() => { api.signOut(); go('') }}>Sign out</button>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>{page}</main>
      <div class="toast" role="status" aria-live="polite">{toast.value}</div>
    </div>
  )
}

// The Metrics page (and its Prometheus parser) and the Webhooks, Backups
// and Crons pages are chunks of their own, loaded on the first visit, so
// the first page load stays small.
const lazyModules = {}
const LAZY = {
  metrics: { title: 'Metrics', load: () => import('./pages/metrics.jsx'), name: 'Metrics' },
  webhooks: { title: 'Webhooks', load: () => import('./pages/webhooks.jsx'), name: 'Webhooks' },
  backups: { title: 'Backups', load: () => import('./pages/backups.jsx'), name: 'Backups' },
  crons: { title: 'Crons', load: () => import('./pages/crons.jsx'), name: 'Crons' },
}
function Lazy({ page: key }) {
  const spec = LAZY[key]
  const [page, setPage] = useState(null)
  const [error, setError] = useState('')
  useEffect(() => {
    (lazyModules[key] ||= spec.load()).then((m) => setPage(() => m[spec.name]), (e) => setError(String(e?.message || e)))
  }, [key])
  if (page) { const Page = page; return <Page /> }
  return <section><h1>{spec.title}</h1>{error ? <p class="error" role="alert">{error}</p> : <p aria-busy="true">Loading…</p>}</section>
}

function Welcome() {
  const n = collections.value.filter((c) => !c.system).length
  return (
    <section>
      <h1>Welcome</h1>
      <p>{n === 0 ? 'No collections yet.' : 'Pick a collection on the left to browse its records.'}</p>
      <p><a class="button primary" href="#/new-collection">New collection</a></p>
    </section>
  )
}
