import * as fs from 'node:fs'

/** libfaketime from Debian's `faketime` package (.ci/run installs it). */
const LIBFAKETIME = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1'
].find((file) => fs.existsSync(file))

/**
 * Environment that moves the clock of a dynamically linked program started
 * with it `ahead` ('+9m'): the credential helper's Node, when kubectl starts
 * it. kubectl is a static Go binary, which LD_PRELOAD does not reach, so its
 * own clock (and the API server's) stays real.
 */
export function clockAhead(ahead: string): Record<string, string> {
  if (!LIBFAKETIME) {
    throw new Error(
      'libfaketime is missing: install the Debian package faketime (.ci/run does)'
    )
  }
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME: ahead,
    FAKETIME_DONT_FAKE_MONOTONIC: '1'
  }
}
