// FilterBox: a one-line filter in the filter language, in a code editor
// that completes field names (Ctrl+Space, or as you type) and checks the
// text with the server while you type (its parser is the only one that
// counts). Enter or "Apply filter" applies it.
import { useEffect, useRef, useState } from 'preact/hooks'
import { CodeField } from './code.jsx'
import * as api from './api.js'

export function FilterBox({ label = 'Filter', words, validate, onApply, applied, error, example }) {
  const [text, setText] = useState(applied || '')
  const [gen, setGen] = useState(0) // a new editor (empty) after Clear
  const live = useLiveCheck(text, validate)
  const textRef = useRef(text)
  textRef.current = text

  const apply = () => onApply(textRef.current.trim())
  const shownError = error || (live.state === 'bad' ? live.msg : '')
  const hint = shownError ? undefined
    : live.state === 'ok' ? 'The server accepts this filter; press Enter to apply it.'
    : live.state === 'checking' ? 'Checking…'
    : example
  return (
    <form class="row grow" role="search" onSubmit={(e) => { e.preventDefault(); apply() }}>
      <CodeField key={gen} class="grow filter-field" label={label} lang="filter" rows={1} value={text}
        onChange={setText} onEnter={apply} completions={words} error={shownError} hint={hint} />
      <button type="submit">Apply filter</button>
      {applied && <button type="button" onClick={() => { setText(''); setGen(gen + 1); onApply('') }}>Clear</button>}
    </form>
  )
}

// useLiveCheck asks validate(text) (a promise that rejects with the
// server's error) about the text, 400 ms after the last change; a stale
// answer is dropped. state: '' (nothing to check), checking, ok, bad.
export function useLiveCheck(text, validate) {
  const [live, setLive] = useState({ state: '', msg: '' })
  useEffect(() => {
    const src = (text ?? '').trim()
    if (!src || !validate) { setLive({ state: '', msg: '' }); return }
    let dead = false
    const timer = setTimeout(() => {
      setLive({ state: 'checking', msg: '' })
      validate(src).then(
        () => { if (!dead) setLive({ state: 'ok', msg: '' }) },
        (e) => { if (!dead) setLive({ state: 'bad', msg: api.errorMessage(e) }) },
      )
    }, 400)
    return () => { dead = true; clearTimeout(timer) }
  }, [text])
  return live
}
