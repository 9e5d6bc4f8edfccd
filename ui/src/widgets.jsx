// Small accessible building blocks: every input gets a visible label tied
// to it by id, hints and errors are linked with aria-describedby.
import { useId } from 'preact/hooks'

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
