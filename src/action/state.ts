import * as core from '@actions/core'
import {
  UntrustedStateError,
  verifyRunState,
  type RunState,
  type StateExpectations
} from '../core/run-record.js'
import { RUN_STATE } from './host.js'

/**
 * The state main saved, verified (see verifyRunState); undefined when main
 * made nothing, or rolled back all it made.
 */
export function getRunState(expected: StateExpectations): RunState | undefined {
  const raw = core.getState(RUN_STATE)
  if (raw === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new UntrustedStateError('it is not JSON')
  }
  const state = verifyRunState(parsed, expected)
  return Object.keys(state).length === 0 ? undefined : state
}
