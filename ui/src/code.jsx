// CodeField: a labelled code editor (rules, JSON, SQL). CodeMirror is
// loaded on first use (its own chunk, so the first page load stays
// small); until it arrives a plain textarea does the job. Once mounted,
// the editor owns its text: value is only read when it mounts (give the
// field a new key to replace the text). Feeding the parent's state back
// into the editor raced with the editor's own reports and could loop.
import { Component } from 'preact'
import { useEffect, useId, useRef, useState } from 'preact/hooks'

let cmModule
const loadCM = () => (cmModule ||= import('./cm.js'))

export function CodeField({ label, value, onChange, onEnter, lang, completions, error, hint, rows = 3, class: cls }) {
  const id = useId()
  const labelId = id + '-label'
  const describedBy = [hint && id + '-hint', error && id + '-err'].filter(Boolean).join(' ') || undefined
  const host = useRef(null)
  const view = useRef(null)
  const latest = useRef({ onChange, completions })
  latest.current = { onChange, onEnter, completions, value }
  const [ready, setReady] = useState(false)

  useEffect(() => {
    let dead = false
    loadCM().then((cm) => {
      if (dead || !host.current) return
      view.current = cm.mount(host.current, {
        // Both ids, whether or not a hint or error shows yet: the editor
        // reads its attributes once, and a missing id is simply skipped.
        value: latest.current.value ?? '', lang, labelId, describedBy: id + '-hint ' + id + '-err', rows,
        onChange: (v) => latest.current.onChange(v),
        onEnter: onEnter ? () => latest.current.onEnter?.() : undefined,
        completions: () => latest.current.completions?.() || [],
      })
      host.current.hidden = false
      setReady(true)
    })
    return () => { dead = true; view.current?.destroy(); view.current = null }
  }, [])

  return (
    <div class={'field code-field' + (error ? ' invalid' : '') + (cls ? ' ' + cls : '')} aria-busy={ready ? undefined : 'true'}>
      <label id={labelId} for={ready ? undefined : id} onClick={() => view.current?.focus()}>{label}</label>
      <EditorHost hostRef={host} />
      {!ready && <textarea id={id} rows={rows} aria-describedby={describedBy} value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value)} spellcheck={false}
        onKeyDown={onEnter ? (e) => { if (e.key === 'Enter') { e.preventDefault(); onEnter() } } : undefined} />}
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
