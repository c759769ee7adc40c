import * as core from '@actions/core'

// Values registered with the runner's masker, kept here too so that our own
// failure messages are scrubbed before they are printed: masking is the
// runner's backstop, not our only control.
const registered = new Set<string>()

/** Mask a secret value in the job log from this point on. */
export function maskSecret(value: string | undefined): void {
  if (!value || value.trim() === '') return
  if (registered.has(value)) return
  registered.add(value)
  core.setSecret(value)
}

/** Replace every registered secret inside text with ***. */
export function redact(text: string): string {
  let out = text
  for (const value of registered) {
    out = out.split(value).join('***')
  }
  return out
}
