// Starts the real kube-apiserver (building it first if needed) before any
// end-to-end test runs. If it cannot start, the whole run fails: no e2e test
// is ever skipped because the cluster is missing.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

function running() {
  if (!existsSync('.cluster/pid')) return false
  try {
    process.kill(Number(readFileSync('.cluster/pid', 'utf8')), 0)
    return true
  } catch {
    return false
  }
}

export default async function globalSetup() {
  globalThis.__startedCluster = !running()
  const up = spawnSync(process.execPath, ['scripts/cluster.mjs', 'up'], {
    stdio: 'inherit'
  })
  if (up.status !== 0) {
    throw new Error(
      `npm run cluster:up failed (exit ${up.status}); the end-to-end tests need the real kube-apiserver`
    )
  }
}
