import { useState } from 'preact/hooks'
import * as api from '../api.js'
import { collections, loadCollections, notify } from '../state.js'
import { Check, ErrorText } from '../widgets.jsx'
import { CodeField } from '../code.jsx'

const strip = (c) => { const { created, updated, ...rest } = c; return rest }

// ImportExport shows the schema as JSON and imports an edited or pasted
// one, after a summary of what would change.
export function ImportExport() {
  const current = collections.value.filter((c) => !c.system).map(strip)
  const [text, setText] = useState(() => JSON.stringify(current, null, 2))
  const [deleteMissing, setDeleteMissing] = useState(false)
  const [diff, setDiff] = useState(null)
  const [error, setError] = useState('')
  const review = () => {
    setError('')
    let list
    try { list = JSON.parse(text) } catch (e) { setError('Invalid JSON: ' + e.message); return }
    if (!Array.isArray(list)) { setError('Expected a JSON array of collections.'); return }
    const names = new Set(list.map((c) => c.name))
    const before = Object.fromEntries(current.map((c) => [c.name, c]))
    setDiff({
      list,
      added: list.filter((c) => !before[c.name]).map((c) => c.name),
      changed: list.filter((c) => before[c.name] && JSON.stringify(strip(c)) !== JSON.stringify(before[c.name])).map((c) => c.name),
      deleted: deleteMissing ? current.filter((c) => !names.has(c.name)).map((c) => c.name) : [],
    })
  }
  const apply = async () => {
    try {
      await api.importCollections(diff.list, deleteMissing)
      await loadCollections()
      setDiff(null)
      notify('Schema imported.')
    } catch (e) {
      setError(api.errorMessage(e))
    }
  }
  const download = () => {
    const a = document.createElement('a')
    a.href = URL.createObjectURL(new Blob([JSON.stringify(current, null, 2)], { type: 'application/json' }))
    a.download = 'plinth_schema.json'
    a.click()
    setTimeout(() => URL.revokeObjectURL(a.href), 1000)
  }
  return (
    <section>
      <header class="page-head"><h1>Import/export schema</h1><button type="button" onClick={download}>Download JSON</button></header>
      <CodeField label="Collections JSON" lang="json" rows={18} value={text} onChange={setText} />
      <Check label="Delete collections missing from the JSON" checked={deleteMissing} onChange={setDeleteMissing} />
      <ErrorText>{error}</ErrorText>
      <button type="button" class="primary" onClick={review}>Review import</button>
      {diff && (
        <div class="card" role="region" aria-label="Import summary">
          <h2>Import summary</h2>
          <p>New: {diff.added.join(', ') || 'none'}</p>
          <p>Changed: {diff.changed.join(', ') || 'none'}</p>
          <p class={diff.deleted.length ? 'error' : ''}>Deleted with their data: {diff.deleted.join(', ') || 'none'}</p>
          <div class="row actions"><button type="button" class="danger" onClick={apply}>Import</button><button type="button" onClick={() => setDiff(null)}>Cancel</button></div>
        </div>
      )}
    </section>
  )
}
