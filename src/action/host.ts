import * as core from '@actions/core'
import { getProxyUrl } from '@actions/http-client/lib/proxy'
import { useHost, type Host } from '../core/ports.js'

/** The name main's record is saved under, and post reads. */
export const RUN_STATE = 'run'

/**
 * The core's host inside a GitHub Actions step: masking, the log and saved
 * state go through the runner's file commands, and the proxy follows the
 * rules @actions/http-client applies to the action's own GitHub calls.
 */
const actionHost: Host = {
  mask: (value) => {
    core.setSecret(value)
  },
  info: (line) => {
    core.info(line)
  },
  warning: (line) => {
    core.warning(line)
  },
  debug: (line) => {
    core.debug(line)
  },
  saveRecord: (json) => {
    core.saveState(RUN_STATE, json)
  },
  exportVariable: (name, value) => {
    core.exportVariable(name, value)
  },
  proxyFor: (url) => getProxyUrl(url)?.href
}

/** Run the core as this step: called first by main and post. */
export function useActionHost(): void {
  useHost(actionHost)
}
