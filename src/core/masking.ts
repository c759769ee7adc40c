import { host } from './ports.js'

// Values registered with the runner's masker, kept here too so that our own
// failure messages are scrubbed before they are printed: masking is the
// runner's backstop, not our only control.
const registered = new Set<string>()

// PEM armour lines are the same in every key; masking them would only blank
// unrelated log lines, and they carry nothing secret.
const PEM_ARMOUR = /^-----(BEGIN|END) [A-Z0-9 ]+-----$/

function register(value: string): void {
  if (registered.has(value)) return
  registered.add(value)
  host().mask(value)
}

/**
 * Mask a secret value in the job log from this point on. Numbers (YAML
 * `password: 123456`) are masked as their text; surrounding whitespace (a
 * token file's trailing newline) is not part of the secret; a multi-line
 * value (a PEM key) is masked line by line, as the runner itself matches
 * log lines one at a time.
 */
export function maskSecret(value: unknown): void {
  if (
    typeof value !== 'string' &&
    typeof value !== 'number' &&
    typeof value !== 'bigint' &&
    typeof value !== 'boolean'
  ) {
    return
  }
  const text = String(value).trim()
  if (text === '') return
  const lines = text.split(/\r\n|\r|\n/).map((line) => line.trim())
  if (lines.length === 1) {
    register(text)
    return
  }
  for (const line of lines) {
    if (line !== '' && !PEM_ARMOUR.test(line)) register(line)
  }
}

/** Replace every registered secret inside text with ***. */
export function redact(text: string): string {
  let out = text
  // Longest first, so a secret that contains a shorter one is removed whole.
  const values = [...registered].sort((a, b) => b.length - a.length)
  for (const value of values) {
    out = out.split(value).join('***')
  }
  return out
}
