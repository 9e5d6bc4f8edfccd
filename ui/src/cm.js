// The CodeMirror 6 setup, in a chunk of its own (see code.jsx).
import { EditorView, keymap, drawSelection, highlightActiveLine, lineNumbers } from '@codemirror/view'
import { EditorState } from '@codemirror/state'
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands'
import { syntaxHighlighting, defaultHighlightStyle, bracketMatching } from '@codemirror/language'
import { autocompletion, completionKeymap, closeBrackets } from '@codemirror/autocomplete'
import { json } from '@codemirror/lang-json'
import { sql } from '@codemirror/lang-sql'

export function mount(parent, { value, onChange, onEnter, lang, labelId, describedBy, completions, rows }) {
  const extensions = [
    // CodeMirror adds its styles in <style> elements: the CSP allows them
    // with the nonce the server put in the page.
    EditorView.cspNonce.of(document.querySelector('meta[name=csp-nonce]')?.content || ''),
    history(),
    drawSelection(),
    highlightActiveLine(),
    bracketMatching(),
    closeBrackets(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    // Tab is left to the browser, so the editor never traps keyboard focus.
    // Enter accepts an open completion first; otherwise a one-line field
    // (a filter box) submits instead of adding a line.
    keymap.of([...completionKeymap,
      ...(onEnter ? [{ key: 'Enter', run: () => { queueMicrotask(onEnter); return true } }] : []),
      ...defaultKeymap, ...historyKeymap]),
    EditorView.lineWrapping,
    EditorView.contentAttributes.of({
      'aria-labelledby': labelId,
      ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      'aria-multiline': 'true',
    }),
    EditorView.theme({
      '&': { minHeight: (rows || 3) * 1.5 + 'em' },
      '.cm-content': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' },
    }),
    // Reported after the editor's update cycle, so that whatever the
    // page renders in response never runs inside it.
    EditorView.updateListener.of((u) => {
      if (u.docChanged) {
        const text = u.state.doc.toString()
        queueMicrotask(() => onChange(text))
      }
    }),
  ]
  if (lang === 'json') extensions.push(json(), lineNumbers())
  else if (lang === 'sql') extensions.push(sql(), lineNumbers())
  if (lang === 'rule' || lang === 'filter') {
    extensions.push(autocompletion({ override: [ruleCompletions(completions)], activateOnTyping: true }))
  } else {
    extensions.push(autocompletion())
  }
  return new EditorView({ parent, state: EditorState.create({ doc: value, extensions }) })
}

// ruleCompletions completes field names, @request.*, @collection.* and
// the macros, from the words completions() returns.
function ruleCompletions(completions) {
  return (ctx) => {
    const word = ctx.matchBefore(/[@\w.:]+/)
    if (!word || (word.from === word.to && !ctx.explicit)) return null
    const options = completions().map((w) => ({ label: w, type: w.startsWith('@') ? 'variable' : 'property' }))
    return { from: word.from, options, validFor: /^[@\w.:]*$/ }
  }
}
