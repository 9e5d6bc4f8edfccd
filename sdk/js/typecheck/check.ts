// Compiled by run.sh against the types `plinth typegen` wrote for the
// server the suite just ran: the generated file must type-check with the
// pocketbase SDK, and typed collections must give typed records.
import PocketBase from 'pocketbase'
import type { TypedPocketBase, UsersResponse } from './types.js'

export async function check(): Promise<string> {
    const pb = new PocketBase('http://127.0.0.1:8090') as TypedPocketBase
    const user: UsersResponse = await pb.collection('users').getOne('abc')
    const email: string = user.email
    const verified: boolean = user.verified
    // @ts-expect-error: a typed record's email is a string, not a number
    const wrong: number = user.email
    const page = await pb.collection('users').getList(1, 20)
    return email + String(verified) + String(wrong) + page.items.map((u) => u.id).join(',')
}
