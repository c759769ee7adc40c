// Builds nektos/act (the real workflow runner of the act-*.e2e tests) and
// starts the real kube-apiserver (building it first if needed) before any
// end-to-end test runs, so tests running in parallel never build either. If
// either fails, the whole run fails: no e2e test is ever skipped because a
// tool is missing.
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
  // Cached in .cache/bin; with the pinned version there this is a 0.4 s check.
  const act = spawnSync(process.execPath, ['scripts/act.mjs', 'build'], {
    stdio: 'inherit'
  })
  if (act.status !== 0) {
    throw new Error(
      `node scripts/act.mjs build failed (exit ${act.status}); the act end-to-end tests need nektos/act`
    )
  }
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
