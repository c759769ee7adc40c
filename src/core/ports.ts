/**
 * What the core needs from the program that runs it: a GitHub Action step
 * (src/action/host.ts) or, later, a CLI. The core never imports a CI
 * toolkit; each front door installs one Host before it calls the core, so
 * the same Kubernetes, token and proof code runs under any of them.
 */
export interface Host {
  /** Tell the host's log masker a secret value from this point on. */
  mask(value: string): void
  info(line: string): void
  warning(line: string): void
  debug(line: string): void
  /** Keep main's record (JSON, never a credential) where the revoking step reads it. */
  saveRecord(json: string): void
  /** Set a variable for what runs after this step (the action's later steps). */
  exportVariable(name: string, value: string): void
  /**
   * The proxy the host's environment names for a request to `url` (its
   * HTTPS_PROXY, HTTP_PROXY and NO_PROXY rules), or undefined.
   */
  proxyFor(url: URL): string | undefined
}

let installed: Host | undefined

/** Install the host the core reports to; the entry does this first. */
export function useHost(host: Host): void {
  installed = host
}

/**
 * The installed host. A core call before any host is installed is a defect
 * of the front door, and would otherwise mask nothing, so it throws.
 */
export function host(): Host {
  if (!installed) {
    throw new Error('No host is installed: the entry must call useHost first.')
  }
  return installed
}
