// CodeField: a labelled code editor (rules, JSON, SQL). CodeMirror is
// loaded on first use (its own chunk, so the first page load stays
// small); until it arrives a plain textarea does the job.
import { Component } from 'preact'
import { useEffect, useId, useRef, useState } from 'preact/hooks'

let cmModule
const loadCM = () => (cmModule ||= import('./cm.js'))

export function CodeField({ label, value, onChange, lang, completions, error, hint, rows = 3 }) {
  const id = useId()
  const labelId = id + '-label'
  const describedBy = [hint && id + '-hint', error && id + '-err'].filter(Boolean).join(' ') || undefined
  const host = useRef(null)
  const view = useRef(null)
  const latest = useRef({ onChange, completions })
  latest.current = { onChange, completions }
  const [ready, setReady] = useState(false)
  // emitted is the text the editor last reported: only a value that
  // differs from it comes from outside (import, reset) and replaces the
  // editor's text; the editor's own echoes never go back into it.
  const emitted = useRef(value ?? '')

  useEffect(() => {
    let dead = false
    loadCM().then((cm) => {
      if (dead || !host.current) return
      view.current = cm.mount(host.current, {
        value: value ?? '', lang, labelId, describedBy, rows,
        onChange: (v) => {
          emitted.current = v
          latest.current.onChange(v)
        },
        completions: () => latest.current.completions?.() || [],
      })
      host.current.hidden = false
      setReady(true)
    })
    return () => { dead = true; view.current?.destroy(); view.current = null }
  }, [])

  // Outside changes (import, reset) replace the editor's text.
  useEffect(() => {
    const v = view.current
    const next = value ?? ''
    if (v && next !== emitted.current) {
      emitted.current = next
      if (v.state.doc.toString() !== next) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: next } })
    }
  }, [value, ready])

  return (
    <div class={'field code-field' + (error ? ' invalid' : '')} aria-busy={ready ? undefined : 'true'}>
      <label id={labelId} for={ready ? undefined : id} onClick={() => view.current?.focus()}>{label}</label>
      <EditorHost hostRef={host} />
      {!ready && <textarea id={id} rows={rows} aria-describedby={describedBy} value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value)} spellcheck={false} />}
      {hint && <span id={id + '-hint'} class="hint">{hint}</span>}
      {error && <span id={id + '-err'} class="error" role="alert">{error}</span>}
    </div>
  )
}

// EditorHost is the element CodeMirror draws into. It never re-renders:
// Preact must not touch the editor's DOM, or the editor reads the change
// as an edit, reports it, the page re-renders, and so on forever.
class EditorHost extends Component {
  shouldComponentUpdate() { return false }
  render({ hostRef }) { return <div ref={hostRef} class="code-host" hidden /> }
}
