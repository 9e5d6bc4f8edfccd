// Small accessible building blocks: every input gets a visible label tied
// to it by id, hints and errors are linked with aria-describedby.
import { useId, useState } from 'preact/hooks'

export function Field({ label, error, hint, children, class: cls }) {
  const id = useId()
  const describedBy = [hint && id + '-hint', error && id + '-err'].filter(Boolean).join(' ') || undefined
  const control = children(id, describedBy, !!error)
  return (
    <div class={'field ' + (cls || '')}>
      <label for={id}>{label}</label>
      {control}
      {hint && <span id={id + '-hint'} class="hint">{hint}</span>}
      {error && <span id={id + '-err'} class="error" role="alert">{error}</span>}
    </div>
  )
}

export function Check({ label, checked, onChange, disabled }) {
  const id = useId()
  return (
    <div class="check">
      <input id={id} type="checkbox" checked={!!checked} disabled={disabled} onChange={(e) => onChange(e.currentTarget.checked)} />
      <label for={id}>{label}</label>
    </div>
  )
}

// Dialog is a modal <dialog> (focus trapped and Escape handled by the
// browser) opened as soon as it renders.
export function Dialog({ title, onClose, children }) {
  const id = useId()
  return (
    <dialog ref={(el) => { if (el && !el.open) el.showModal() }} aria-labelledby={id} onClose={onClose} onCancel={onClose}>
      <h2 id={id}>{title}</h2>
      {children}
    </dialog>
  )
}

export function ErrorText({ children }) {
  return children ? <p class="error" role="alert">{children}</p> : null
}

// ListInput edits a list of strings as comma-separated text, keeping what
// is typed (a trailing comma) while the list follows.
export function ListInput({ id, desc, value, onChange }) {
  const [text, setText] = useState((value || []).join(', '))
  return <input id={id} aria-describedby={desc} value={text} onInput={(e) => {
    setText(e.currentTarget.value)
    onChange(e.currentTarget.value.split(',').map((s) => s.trim()).filter(Boolean))
  }} />
}
