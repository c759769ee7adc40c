import * as path from 'node:path'
import { rfc3339 } from '../kube/formats.js'
import { MINT_RECORD, checkRenewalDir, readOwnFile } from './files.js'
import { MAX_RECORD_BYTES, parseMintRecord, type MintedEntry } from './state.js'

/**
 * Post's account of the tokens the job minted, from the record beside the
 * cache. The record is untrusted (any later step can write it, as the same
 * user): it is read only if it is a 0600 file of this user in main's own
 * directory, bounded, every line an id and a time, and only reported; post
 * revokes by deleting the Secret, never by anything the record says.
 */
export function mintReport(dir: string): string[] {
  // Never throws: whatever the record holds, post goes on to revoke.
  try {
    return describe(readRecord(dir))
  } catch {
    return [UNREADABLE]
  }
}

const UNREADABLE =
  `The record of renewed tokens could not be read (it is missing or ` +
  `was changed), so their number is unknown; deleting the per-run ` +
  `Secret revokes every one of them all the same.`

function readRecord(dir: string): MintedEntry[] | undefined {
  if (checkRenewalDir(dir) === 'gone') return undefined
  const raw = readOwnFile(path.join(dir, MINT_RECORD), MAX_RECORD_BYTES)
  return raw === undefined ? undefined : parseMintRecord(raw)
}

function describe(entries: MintedEntry[] | undefined): string[] {
  if (!entries || entries.length === 0) return [UNREADABLE]
  const last = entries.reduce((a, b) => (b.expiresAt > a.expiresAt ? b : a))
  return [
    `The job minted ${entries.length} token${entries.length === 1 ? '' : 's'}, ` +
      `all bound to the per-run Secret; the last would have expired at ` +
      `${rfc3339(new Date(last.expiresAt * 1000))}.`,
    'credential-ids (jti, as the audit log records them): ' +
      entries.map((e) => e.credentialId).join(', ')
  ]
}
