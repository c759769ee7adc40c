/**
 * Errors the action raises on purpose. Their messages are single sentences a
 * workflow author can act on; run() prints them without a stack trace.
 */
export class ActionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ActionError'
  }
}

/** A bad input value, detected before any network call. */
export class InputError extends ActionError {
  constructor(message: string) {
    super(message)
    this.name = 'InputError'
  }
}

/** The message of anything thrown, without assuming it is an Error. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

// Control characters and line separators, which would split a message.
// eslint-disable-next-line no-control-regex -- matching them is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/**
 * A value from a workflow or kubeconfig as a message repeats it: control
 * characters escaped and long values shortened, so the message stays one
 * line and one sentence whatever the value holds.
 */
function escaped(value: string, max = 100): string {
  const safe = value.replace(UNPRINTABLE, (c) => {
    const named: Record<string, string> = {
      '\n': '\\n',
      '\r': '\\r',
      '\t': '\\t'
    }
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
  return safe.length > max ? `${safe.slice(0, max)}…` : safe
}

/** True when the value holds a control character or line separator. */
export function hasUnprintable(value: string): boolean {
  return new RegExp(UNPRINTABLE.source).test(value)
}

let repeatValues = true

/**
 * For a front door whose output nothing masks (the CLI outside GitHub):
 * from now on quoted() repeats no value, so no refusal can print a secret
 * someone put in the wrong place. The action never calls it: its sentences
 * keep quoting (escaped, shortened), under the runner's masking.
 */
export function stopRepeatingValues(): void {
  repeatValues = false
}

/** escaped(), in single quotes; or, once stopRepeatingValues() ran, no value at all. */
export function quoted(value: string, max = 100): string {
  return repeatValues ? `'${escaped(value, max)}'` : 'a value not repeated here'
}
