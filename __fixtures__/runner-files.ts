// What both runner stand-ins (unit: in-process; e2e: dist/ as a child
// process) share: the workflow run's GITHUB_* variables and the file-command
// format @actions/core writes. Imported with .ts extensions because the demo
// runs the e2e support code directly under Node's type stripping.

/** The GITHUB_* variables of the pretend workflow run. */
export const GITHUB_RUN_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: 'octo-org/scan-repo',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_WORKFLOW: 'security-scan',
  GITHUB_JOB: 'inspec',
  GITHUB_ACTOR: 'octocat',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567'
}

/** One `name<<DELIM` / `name=value` entry of a file command, in write order. */
export interface FileCommand {
  name: string
  value: string
}

/** Parse the `name<<DELIM\nvalue\nDELIM` (or `name=value`) format, keeping every entry in order. */
export function parseFileCommandEntries(text: string): FileCommand[] {
  const entries: FileCommand[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const heredoc = /^([^<=]+)<<(.+)$/.exec(line)
    if (heredoc?.[1] && heredoc[2]) {
      const end = lines.indexOf(heredoc[2], i + 1)
      if (end === -1) throw new Error(`unterminated file command ${heredoc[1]}`)
      entries.push({
        name: heredoc[1],
        value: lines.slice(i + 1, end).join('\n')
      })
      i = end
    } else if (line.includes('=')) {
      const at = line.indexOf('=')
      entries.push({ name: line.slice(0, at), value: line.slice(at + 1) })
    }
  }
  return entries
}

/** The last value written for each name, which is what the runner keeps. */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {}
  for (const entry of parseFileCommandEntries(text)) {
    result[entry.name] = entry.value
  }
  return result
}
