// Shared dashboard state, as signals.
import { signal, computed } from '@preact/signals'
import * as api from './api.js'

// route is the location hash split on '/': #/c/posts → ['c', 'posts'].
export const route = signal(parseHash())
addEventListener('hashchange', () => { route.value = parseHash() })

function parseHash() {
  return location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent)
}

export function go(...parts) {
  location.hash = '#/' + parts.map(encodeURIComponent).join('/')
}

export const signedIn = signal(api.isSignedIn())
api.onAuthChange(() => { signedIn.value = api.isSignedIn() })

export const collections = signal([])
export const collectionsError = signal('')
export const byName = computed(() => Object.fromEntries(collections.value.map((c) => [c.name, c])))
export const byId = computed(() => Object.fromEntries(collections.value.map((c) => [c.id, c])))

export async function loadCollections() {
  try {
    collections.value = await api.listCollections()
    collectionsError.value = ''
  } catch (e) {
    collectionsError.value = api.errorMessage(e)
  }
}

// toast shows one short status message (role=status, announced).
export const toast = signal('')
let toastTimer
export function notify(msg) {
  toast.value = msg
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => { toast.value = '' }, 4000)
}
