import * as path from 'node:path'
import {
  MINT_RECORD,
  RENEWAL_CONFIG,
  TOKEN_CACHE,
  appendLine,
  writeNew
} from './files.js'
import { recordLine, serialiseTokenCache, type RenewalConfig } from './state.js'
import type { Minted } from './credential.js'

// What main writes for renewal, beside the kubeconfig in its fresh 0700
// directory: the configuration (no credential), the first token as the
// cache, and the first line of the record. Each file is created
// exclusively, 0600 from its first byte.

/** The kubeconfig user that runs the credential helper. */
export function execUser(
  nodePath: string,
  helperPath: string,
  dir: string
): Record<string, unknown> {
  return {
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1',
      // Absolute paths: a relative command would be looked up against the
      // kubeconfig's directory or PATH, which a later step can change.
      command: nodePath,
      args: [helperPath, dir],
      // The client passes its whole environment on; an empty NODE_OPTIONS
      // keeps one a later step set (--require, --import) from loading code
      // into the helper, which reads the job's ID-token request token.
      env: [{ name: 'NODE_OPTIONS', value: '' }],
      // The helper never prompts; client-go refuses 'Always' without a TTY.
      interactiveMode: 'Never',
      provideClusterInfo: false
    }
  }
}

/** What main writes into `renewal.json`: the config but its version. */
export type RenewalFiles = Omit<RenewalConfig, 'version'>

/** Write the renewal configuration, the cache with `first`, and its record line. */
export function writeRenewalFiles(
  dir: string,
  files: RenewalFiles,
  first: Minted,
  issuedAt: number
): void {
  const config: RenewalConfig = { version: 1, ...files }
  writeNew(path.join(dir, RENEWAL_CONFIG), JSON.stringify(config))
  writeNew(
    path.join(dir, TOKEN_CACHE),
    serialiseTokenCache({
      token: first.token,
      issuedAt,
      expiresAt: issuedAt + first.grantedSeconds
    })
  )
  appendLine(
    path.join(dir, MINT_RECORD),
    recordLine({
      credentialId: first.credentialId,
      expiresAt: issuedAt + first.grantedSeconds
    })
  )
}
