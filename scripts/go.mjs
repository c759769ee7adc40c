// The Go toolchain that builds the test cluster (scripts/cluster) and act
// (scripts/act.mjs) from Go modules.
import fs from 'node:fs'
import path from 'node:path'

/** The `go` binary: $GO, else the first on PATH, else /usr/local/go/bin/go. */
export function findGo() {
  if (process.env.GO) return process.env.GO
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir || '.', 'go')
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // not here, keep looking
    }
  }
  if (fs.existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go'
  throw new Error('no Go toolchain found (need Go >= 1.25); set GO=/path/to/go')
}
