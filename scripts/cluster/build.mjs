// Building the test cluster's binaries (kube-apiserver with embedded etcd,
// kubectl and the node agent) from the Go module in test/cluster, only when
// stale.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {
  BIN_DIR,
  KAS,
  KUBECTL,
  NODE_AGENT,
  ROOT,
  SRC_DIR,
  fail,
  log,
  seconds
} from './common.mjs'
import { findGo } from '../go.mjs'

// The Kubernetes version comes from go.mod so the ldflags cannot drift from
// the code actually compiled in.
function k8sVersion() {
  const gomod = fs.readFileSync(path.join(SRC_DIR, 'go.mod'), 'utf8')
  const m = gomod.match(/^\s*k8s\.io\/kubernetes (v(\d+)\.(\d+)\.\d+\S*)/m)
  if (!m)
    fail('cannot find the k8s.io/kubernetes version in test/cluster/go.mod')
  return { version: m[1], major: m[2], minor: m[3] }
}

// A binary is stale when go.mod, go.sum or a file of its own package
// directory is newer (each main package is one directory, without
// subpackages), so changing the node agent does not relink kube-apiserver.
function newestSourceMtime(pkg) {
  const dir = path.join(SRC_DIR, pkg)
  let newest = Math.max(
    ...['go.mod', 'go.sum'].map(
      (f) => fs.statSync(path.join(SRC_DIR, f)).mtimeMs
    )
  )
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile())
      newest = Math.max(newest, fs.statSync(path.join(dir, entry.name)).mtimeMs)
  }
  return newest
}

function isStale(bin, srcMtime) {
  try {
    const st = fs.statSync(bin)
    return st.size === 0 || st.mtimeMs < srcMtime
  } catch {
    return true
  }
}

function goBuild(go, pkg, out, ldflags) {
  const res = spawnSync(
    go,
    ['build', '-trimpath', '-ldflags', ldflags, '-o', out, pkg],
    {
      cwd: SRC_DIR,
      stdio: 'inherit',
      // local: never download a toolchain; no cgo: static, host-independent.
      env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' }
    }
  )
  if (res.error) fail(`cannot run ${go}: ${res.error.message}`)
  if (res.status !== 0) fail(`go build ${pkg} failed (exit ${res.status})`)
  // go build leaves an up-to-date target untouched; bump the mtime so the
  // staleness check above does not re-run go build on every `up`.
  const now = new Date()
  fs.utimesSync(out, now, now)
}

export function build({ force }) {
  const targets = [
    {
      what: 'kube-apiserver',
      pkg: '.',
      out: KAS,
      note: ' (cold build can take ~15 min)'
    },
    { what: 'kubectl', pkg: './kubectl', out: KUBECTL, note: '' },
    { what: 'node agent', pkg: './node', out: NODE_AGENT, note: '' }
  ].filter((t) => force || isStale(t.out, newestSourceMtime(t.pkg)))
  if (targets.length === 0) return

  let go
  try {
    go = findGo()
  } catch (error) {
    fail(error.message)
  }
  const v = k8sVersion()
  // -s -w: no symbol/DWARF tables, they only make the binaries bigger.
  const ldflags = [
    '-s -w',
    `-X k8s.io/component-base/version.gitVersion=${v.version}`,
    `-X k8s.io/component-base/version.gitMajor=${v.major}`,
    `-X k8s.io/component-base/version.gitMinor=${v.minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean'
  ].join(' ')
  fs.mkdirSync(BIN_DIR, { recursive: true })
  for (const t of targets) {
    log(`building ${t.what} ${v.version}${t.note}...`)
    const started = Date.now()
    goBuild(go, t.pkg, t.out, ldflags)
    log(`built ${path.relative(ROOT, t.out)} in ${seconds(started)} s`)
  }
}
