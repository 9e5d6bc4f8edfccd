// Field types, their options, and rule autocompletion words.

// Option kinds: int, float (empty = none), bool, list (comma-separated),
// text, collection (a relation target).
export const FIELD_TYPES = {
  text: { label: 'Plain text', opts: [['min', 'Min length', 'int'], ['max', 'Max length', 'int'], ['pattern', 'Regex pattern', 'text'], ['autogeneratePattern', 'Autogenerate pattern', 'text']] },
  editor: { label: 'Rich editor (HTML)', opts: [['maxSize', 'Max size (bytes)', 'int'], ['convertURLs', 'Convert URLs', 'bool']] },
  number: { label: 'Number', opts: [['min', 'Min', 'float'], ['max', 'Max', 'float'], ['onlyInt', 'Integers only', 'bool']] },
  bool: { label: 'Bool', opts: [] },
  email: { label: 'Email', opts: [['onlyDomains', 'Only domains', 'list'], ['exceptDomains', 'Except domains', 'list']] },
  url: { label: 'URL', opts: [['onlyDomains', 'Only domains', 'list'], ['exceptDomains', 'Except domains', 'list']] },
  date: { label: 'Date', opts: [['min', 'Min date', 'text'], ['max', 'Max date', 'text']] },
  autodate: { label: 'Autodate', opts: [['onCreate', 'Set on create', 'bool'], ['onUpdate', 'Set on update', 'bool']] },
  select: { label: 'Select', opts: [['values', 'Choices', 'list'], ['maxSelect', 'Max selected', 'int']] },
  file: { label: 'File', opts: [['maxSelect', 'Max files', 'int'], ['maxSize', 'Max size (bytes)', 'int'], ['mimeTypes', 'MIME types', 'list'], ['thumbs', 'Thumb sizes (e.g. 100x100)', 'list'], ['protected', 'Protected', 'bool']] },
  relation: { label: 'Relation', opts: [['collectionId', 'Related collection', 'collection'], ['minSelect', 'Min selected', 'int'], ['maxSelect', 'Max selected', 'int'], ['cascadeDelete', 'Cascade delete', 'bool']] },
  json: { label: 'JSON', opts: [['maxSize', 'Max size (bytes)', 'int']] },
  geoPoint: { label: 'Geo point', opts: [] },
  password: { label: 'Password', opts: [['min', 'Min length', 'int'], ['max', 'Max length', 'int'], ['pattern', 'Regex pattern', 'text']] },
}

const DEFAULTS = {
  text: { min: 0, max: 0, pattern: '', autogeneratePattern: '' },
  editor: { maxSize: 0, convertURLs: false },
  number: { min: null, max: null, onlyInt: false },
  email: { onlyDomains: [], exceptDomains: [] },
  url: { onlyDomains: [], exceptDomains: [] },
  date: { min: '', max: '' },
  autodate: { onCreate: true, onUpdate: false },
  select: { values: [], maxSelect: 1 },
  file: { maxSelect: 1, maxSize: 0, mimeTypes: [], thumbs: ['100x100'], protected: false },
  relation: { collectionId: '', minSelect: 0, maxSelect: 1, cascadeDelete: false },
  json: { maxSize: 0 },
  password: { min: 8, max: 0, pattern: '' },
}

export function newField(type, name = '') {
  return { name, type, required: false, hidden: false, presentable: false, system: false, ...structuredClone(DEFAULTS[type] || {}) }
}

// withType changes a field's type, keeping its common attributes.
export function withType(f, type) {
  const { id, name, required, hidden, presentable } = f
  return { ...newField(type, name), ...(id ? { id } : {}), required, hidden, presentable }
}

// defaultFields are what a new collection starts with; the server no
// longer adds created/updated itself, so the dashboard sends them.
export function defaultFields(type) {
  if (type === 'view') return []
  return [
    { ...newField('autodate', 'created'), onCreate: true, onUpdate: false, hidden: false },
    { ...newField('autodate', 'updated'), onCreate: true, onUpdate: true, hidden: false },
  ]
}

export const RULES = [
  ['listRule', 'List/search rule'],
  ['viewRule', 'View rule'],
  ['createRule', 'Create rule'],
  ['updateRule', 'Update rule'],
  ['deleteRule', 'Delete rule'],
]
export const AUTH_RULES = [
  ['authRule', 'Auth rule (who may sign in)'],
  ['manageRule', 'Manage rule (who may manage other accounts)'],
]

const MACROS = ['@now', '@second', '@minute', '@hour', '@weekday', '@day', '@month', '@year',
  '@todayStart', '@todayEnd', '@monthStart', '@monthEnd', '@yearStart', '@yearEnd']

// ruleWords lists what a rule or filter of collection c may name.
export function ruleWords(c, all) {
  const names = (c?.fields || []).map((f) => f.name)
  const out = ['id', ...names.filter((n) => n !== 'id')]
  const users = all.filter((x) => x.type === 'auth')
  const authFields = new Set(['id', 'collectionName', 'collectionId'])
  for (const u of users) for (const f of u.fields || []) if (f.type !== 'password') authFields.add(f.name)
  for (const f of authFields) out.push('@request.auth.' + f)
  for (const n of names) out.push('@request.body.' + n)
  out.push('@request.method', '@request.context', '@request.query.', '@request.headers.')
  for (const x of all) {
    if (x.system) continue
    for (const f of ['id', ...(x.fields || []).map((f) => f.name)]) out.push('@collection.' + x.name + '.' + f)
  }
  for (const f of c?.fields || []) {
    if (f.type === 'relation' || f.type === 'select' || f.type === 'file') out.push(f.name + ':length', f.name + ':each')
  }
  return [...new Set([...out, ...MACROS])]
}

// fieldChanges compares the saved fields with the draft: dropped fields
// (their data is lost), type changes and renames.
export function fieldChanges(before, after) {
  const byId = Object.fromEntries(after.filter((f) => f.id).map((f) => [f.id, f]))
  const dropped = []
  const retyped = []
  const renamed = []
  for (const f of before) {
    const g = byId[f.id]
    if (!g) dropped.push(f.name)
    else {
      if (g.type !== f.type) retyped.push(`${f.name}: ${f.type} → ${g.type}`)
      if (g.name !== f.name) renamed.push(`${f.name} → ${g.name}`)
    }
  }
  return { dropped, retyped, renamed }
}

// preview is how a related record is shown: its presentable fields, else
// its first non-empty text-like field, else its id.
export function preview(rec, coll) {
  if (!rec) return ''
  const fields = coll?.fields || []
  const shown = (n) => rec[n] !== '' && rec[n] != null
  const pres = fields.filter((f) => f.presentable && shown(f.name)).map((f) => rec[f.name])
  if (pres.length) return pres.map((v) => (Array.isArray(v) ? v.join(', ') : String(v))).join(' · ')
  const text = fields.find((f) => ['text', 'email', 'url'].includes(f.type) && f.name !== 'id' && shown(f.name))
  return text ? String(rec[text.name]) : rec.id
}

// filterWords lists what a superuser's filter over c may name: its fields
// (and their modifiers), other collections and the date macros.
export function filterWords(c, all) {
  return ruleWords(c, all).filter((w) => !w.startsWith('@request.'))
}
