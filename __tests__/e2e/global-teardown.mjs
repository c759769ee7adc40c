// Stops the cluster only if this test run started it, so a developer's
// long-running `npm run cluster:up` survives `npm test`.
import { spawnSync } from 'node:child_process'

export default async function globalTeardown() {
  if (globalThis.__startedCluster && !process.env.KEEP_CLUSTER) {
    spawnSync(process.execPath, ['scripts/cluster.mjs', 'down'], {
      stdio: 'inherit'
    })
  }
}
