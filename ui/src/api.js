// The one module that talks to the API, always through the official
// pocketbase SDK (so the dashboard doubles as a compatibility test). The
// superuser token lives in the SDK's authStore (localStorage), never in a
// URL.
import PocketBase, { getTokenPayload } from 'pocketbase'

// The API sits at the root the dashboard is served under (…/_/ → …/).
function apiRoot() {
  const i = location.pathname.indexOf('/_/')
  return location.origin + (i > 0 ? location.pathname.slice(0, i) : '')
}

export const pb = new PocketBase(apiRoot())
// Several lists load at once (sidebar, table, relation previews): the SDK
// would otherwise cancel a request when another with the same key starts.
pb.autoCancellation(false)

export const SUPERUSERS = '_superusers'

export function isSignedIn() {
  return pb.authStore.isValid && pb.authStore.record?.collectionName === SUPERUSERS
}

export function signIn(email, password) {
  return pb.collection(SUPERUSERS).authWithPassword(email, password)
}

// authGen counts sign-outs, so that a token refresh still in flight when
// the superuser signs out is dropped instead of signing them back in.
let authGen = 0

export function signOut() {
  authGen++
  pb.realtime.unsubscribe().catch(() => {})
  pb.authStore.clear()
}

export function onAuthChange(fn) {
  return pb.authStore.onChange(fn)
}

export async function refreshAuth() {
  if (!pb.authStore.isValid) return
  const gen = authGen
  try {
    // Sent as is (authRefresh would store the answer whatever happened
    // meanwhile); stored only if no sign-out came in between.
    const res = await pb.send('/api/collections/' + SUPERUSERS + '/auth-refresh', { method: 'POST' })
    if (gen === authGen && pb.authStore.isValid && res?.token) pb.authStore.save(res.token, res.record)
  } catch (e) {
    if (gen === authGen && (e?.status === 401 || e?.status === 403 || e?.status === 404)) pb.authStore.clear()
  }
}

// install creates the first superuser with the installer link's token.
export function install(token, email, password, passwordConfirm) {
  return pb.send('/api/installer', { method: 'POST', body: { token, email, password, passwordConfirm } })
}

// Collections.
export const listCollections = () => pb.collections.getFullList({ sort: 'name' })
export const createCollection = (data) => pb.collections.create(data)
export const updateCollection = (id, data) => pb.collections.update(id, data)
export const deleteCollection = (id) => pb.collections.delete(id)
export const importCollections = (list, deleteMissing) => pb.collections.import(list, deleteMissing)

// Records.
export const listRecords = (coll, page, perPage, opts) => pb.collection(coll).getList(page, perPage, opts)
export const getRecord = (coll, id, opts) => pb.collection(coll).getOne(id, opts)
export const deleteRecord = (coll, id) => pb.collection(coll).delete(id)
export const fileURL = (record, name, query) => pb.files.getURL(record, name, query)
export const subscribe = (coll, fn) => pb.collection(coll).subscribe('*', fn)
export const createRecord = (coll, body) => pb.collection(coll).create(body)
// batchCreate creates the records of bodies in one transaction (POST
// /api/batch): all or none.
export function batchCreate(coll, bodies) {
  const batch = pb.createBatch()
  for (const b of bodies) batch.collection(coll).create(b)
  return batch.send()
}

// impersonate has the superuser issue a non-refreshable auth token for
// an auth record (POST /api/collections/{c}/impersonate/{id}; duration in
// seconds, undefined for the collection's auth token duration). The SDK
// returns a separate client holding the token in a memory-only auth store:
// never saved (not in localStorage) and never put in a URL.
export async function impersonate(authColl, recordId, duration) {
  const client = await pb.collection(authColl).impersonate(recordId, duration)
  client.autoCancellation(false)
  return client
}

// tokenExpiry is when a token expires, as "2026-12-04 19:00:00 UTC".
export function tokenExpiry(token) {
  const exp = getTokenPayload(token).exp
  return exp ? new Date(exp * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : 'it expires'
}

// Rule preview: the superuser impersonates an auth record (a 5-minute
// token) and lists a collection as that user, so the SAVED list rule
// applies.
export const findAuthRecords = (coll, q) => pb.collection(coll).getList(1, 10, {
  filter: q ? pb.filter('email ~ {:q}', { q }) : '', sort: 'email', skipTotal: true,
})
export async function listAs(authColl, recordId, coll, perPage = 5) {
  const client = await impersonate(authColl, recordId, 300)
  return client.collection(coll).getList(1, perPage)
}

// saveRecord creates or updates a record; onProgress(fraction) follows the
// upload when the body is FormData (files).
export function saveRecord(coll, id, body, onProgress) {
  const opts = body instanceof FormData && onProgress ? { fetch: progressFetch(onProgress) } : {}
  return id ? pb.collection(coll).update(id, body, opts) : pb.collection(coll).create(body, opts)
}

// progressFetch is a fetch for the SDK's `fetch` option, over
// XMLHttpRequest, whose upload reports progress (fetch's does not).
function progressFetch(onProgress) {
  return (url, init) => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open(init.method || 'GET', url)
    for (const [k, v] of Object.entries(init.headers || {})) xhr.setRequestHeader(k, v)
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total) }
    xhr.onload = () => {
      onProgress(1)
      resolve(new Response(xhr.status === 204 ? null : xhr.responseText, {
        status: xhr.status, headers: { 'Content-Type': xhr.getResponseHeader('Content-Type') || 'application/json' },
      }))
    }
    xhr.onerror = () => reject(new TypeError('Network error'))
    xhr.onabort = () => reject(new DOMException('Aborted', 'AbortError'))
    if (init.signal) init.signal.addEventListener('abort', () => xhr.abort())
    xhr.send(init.body)
  })
}

// Settings, API keys, dev mailbox.
export const getSettings = () => pb.settings.getAll()
export const updateSettings = (body) => pb.settings.update(body)
// testEmail sends one kind of email (verification, password-reset,
// email-change, otp, login-alert) through the saved mail settings.
export const testEmail = (email, template, collection) => pb.settings.testEmail(collection || '', email, template)
// testStorage checks the file storage ("storage" or "backups").
export const testStorage = (filesystem) => pb.settings.testS3(filesystem)
export const listAPIKeys = () => pb.send('/api/api-keys', { method: 'GET' })
export const createAPIKey = (body) => pb.send('/api/api-keys', { method: 'POST', body })
export const revokeAPIKey = (id) => pb.send('/api/api-keys/' + encodeURIComponent(id), { method: 'DELETE' })
export const listMails = () => pb.send('/api/dev/mails', { method: 'GET' })

// Webhooks (superusers): the secret comes back once, in create's answer.
const hookPath = (id) => '/api/webhooks/' + encodeURIComponent(id)
export const listWebhooks = () => pb.send('/api/webhooks', { method: 'GET' })
export const createWebhook = (body) => pb.send('/api/webhooks', { method: 'POST', body })
export const updateWebhook = (id, body) => pb.send(hookPath(id), { method: 'PATCH', body })
export const deleteWebhook = (id) => pb.send(hookPath(id), { method: 'DELETE' })
export const listDeliveries = (id, perPage = 50) => pb.send(hookPath(id) + '/deliveries', { method: 'GET', query: { perPage } })
export const retryDelivery = (id, deliveryId) => pb.send(hookPath(id) + '/deliveries/' + encodeURIComponent(deliveryId) + '/retry', { method: 'POST' })
export const setAllowPrivateNetworks = (allow) => pb.send('/api/settings', { method: 'PATCH', body: { webhooks: { allowPrivateNetworks: !!allow } } })

// Backups (superusers): archives kept in the file storage. A download URL
// carries a short-lived superuser file token, never the auth token.
export const listBackups = () => pb.backups.getFullList()
export const createBackup = (name) => pb.backups.create(name || '')
export const uploadBackup = (file) => pb.backups.upload({ file })
export const deleteBackup = (key) => pb.backups.delete(key)
export const restoreBackup = (key) => pb.backups.restore(key)
export async function backupDownloadURL(key) {
  return pb.backups.getDownloadURL(await pb.files.getToken(), key)
}
export const saveBackupSchedule = (cron, cronMaxKeep) => pb.settings.update({ backups: { cron, cronMaxKeep } })

// Crons and the job queue (superusers).
export const listCrons = () => pb.crons.getFullList()
export const runCron = (id) => pb.crons.run(id)
export const listJobs = (perPage = 20) => pb.send('/api/jobs', { method: 'GET', query: { perPage } })

// Logs: the request and application log, and its hourly counts.
export const listLogs = (page, perPage, opts) => pb.logs.getList(page, perPage, opts)
export const getLog = (id) => pb.logs.getOne(id)
export const logStats = (filter) => pb.logs.getStats(filter ? { filter } : {})

// metricsText reads GET /metrics (Prometheus text format). The SDK's send
// parses every body as JSON (text comes back as {}), so a fetch wrapper
// hands it the text as a JSON string; the SDK still adds the token (in
// the Authorization header) and turns an error status into its error.
export const metricsText = () => pb.send('/metrics', {
  method: 'GET',
  headers: { Accept: 'text/plain' },
  fetch: async (url, init) => {
    const res = await fetch(url, init)
    if (!res.ok) return res
    return new Response(JSON.stringify(await res.text()), { status: res.status, headers: { 'Content-Type': 'application/json' } })
  },
})

// errorMessage is what to show for a failed call.
export function errorMessage(e) {
  if (!e) return ''
  const data = e.response?.data
  if (data && typeof data === 'object') {
    const first = Object.entries(data).find(([, v]) => v?.message)
    if (first && !e.response?.message?.includes(first[1].message)) {
      return (e.response?.message || 'Request failed.') + ' ' + first[0] + ': ' + first[1].message
    }
  }
  return e.response?.message || e.message || String(e)
}

// fieldErrors flattens the {field: {code, message}} data of a 400 into
// {path: message}, nested paths joined with dots (fields.2.name).
export function fieldErrors(e) {
  const out = {}
  const walk = (v, p) => {
    if (!v || typeof v !== 'object') return
    if (typeof v.message === 'string' && typeof v.code === 'string') { out[p] = v.message; return }
    for (const [k, sub] of Object.entries(v)) walk(sub, p ? p + '.' + k : k)
  }
  walk(e?.response?.data, '')
  return out
}
