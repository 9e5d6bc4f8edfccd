// Checks of csv.js: `cd ui && npm test` (node's test runner; not bundled).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseCSV, toCSV, cellValue } from './csv.js'

test('plain rows, CRLF, LF and CR line ends, final line break', () => {
  assert.deepEqual(parseCSV('a,b\r\n1,2\n3,4\r5,6\r\n'), [['a', 'b'], ['1', '2'], ['3', '4'], ['5', '6']])
  assert.deepEqual(parseCSV('a,b'), [['a', 'b']])
  assert.deepEqual(parseCSV(''), [])
})

test('quoted fields with commas, quotes and line breaks', () => {
  const text = 'title,note\r\n"Hello, world","He said ""hi"""\r\n"two\r\nlines",x\n'
  assert.deepEqual(parseCSV(text), [['title', 'note'], ['Hello, world', 'He said "hi"'], ['two\r\nlines', 'x']])
})

test('empty fields and rows', () => {
  assert.deepEqual(parseCSV('a,,c\n,\n""\n'), [['a', '', 'c'], ['', ''], ['']])
})

test('byte-order mark and stray quotes', () => {
  assert.deepEqual(parseCSV('\ufeffid,name\n1,5" disk\n'), [['id', 'name'], ['1', '5" disk']])
})

test('an unclosed quote is reported', () => {
  const errors = []
  assert.deepEqual(parseCSV('a\n"open,\nstill', errors), [['a'], ['open,\nstill']])
  assert.equal(errors.length, 1)
  assert.match(errors[0], /line 2/)
})

test('write then read round-trips', () => {
  const rows = [['id', 'title', 'tags'], ['r1', 'Hello, "you"', cellValue(['a', 'b'])], ['r2', ' padded ', cellValue(null)], ['r3', 'multi\nline', cellValue({ x: 1 })]]
  const text = toCSV(rows)
  assert.equal(text.split('\r\n')[1], 'r1,"Hello, ""you""","[""a"",""b""]"')
  assert.deepEqual(parseCSV(text), rows)
})

test('cell values', () => {
  assert.equal(cellValue(true), 'true')
  assert.equal(cellValue(0), '0')
  assert.equal(cellValue(undefined), '')
  assert.equal(cellValue({ lon: 1, lat: 2 }), '{"lon":1,"lat":2}')
})
