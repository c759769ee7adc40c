#!/usr/bin/env node
// `ephemeral-scan-token`: the CLI for other CI systems (SPEC "The CLI for
// other CI systems"), bundled as dist/cli.js and the package's bin. It runs
// the same core as the action, with a host of its own (host.ts) that prints
// no workflow command outside GitHub Actions and never a credential.
import {
  ActionError,
  InputError,
  errorMessage,
  stopRepeatingValues
} from '../core/errors.js'
import { redact } from '../core/masking.js'
import { EXIT } from './exit-codes.js'
import { flagWords } from './flag-words.js'
import { useCliHost } from './host.js'
import { parseMintFlags, parseRevokeFlags } from './flags.js'
import { mint } from './mint.js'
import { revoke } from './revoke.js'
import { MAIN_USAGE, MINT_USAGE, REVOKE_USAGE } from './usage.js'

/** Run one command line; returns the exit status. */
export async function run(
  args: string[],
  env: NodeJS.ProcessEnv = process.env
): Promise<number> {
  const [command, ...rest] = args
  // Outside GitHub nothing masks: a refusal names the flag and what it
  // expects, never the value given.
  stopRepeatingValues()
  // First, so that a flag's check can register a value with the masker
  // (a password in --server) before it refuses it. A planted GITHUB_ACTIONS
  // is refused here, before anything could be masked (that is, printed).
  try {
    useCliHost(env)
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n`)
    return EXIT.badInput
  }
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(MAIN_USAGE)
        return EXIT.ok
      case 'mint': {
        const options = parseMintFlags(rest, env)
        if (options === 'help') {
          process.stdout.write(MINT_USAGE)
          return EXIT.ok
        }
        return await mint(options, env)
      }
      case 'revoke': {
        const options = parseRevokeFlags(rest, env)
        if (options === 'help') {
          process.stdout.write(REVOKE_USAGE)
          return EXIT.ok
        }
        return await revoke(options, env)
      }
      default:
        throw new InputError(
          `There is no command ${/^[a-z-]{1,20}$/.test(command) ? `'${command}'` : 'of that name'}: use mint or revoke (run 'ephemeral-scan-token --help').`
        )
    }
  } catch (error) {
    // What the commands did not turn into an exit status themselves: bad
    // input before anything was made, or a defect.
    const message = flagWords(redact(errorMessage(error)))
    if (error instanceof InputError) {
      process.stderr.write(`${message}\n`)
      return EXIT.badInput
    }
    if (error instanceof ActionError) {
      process.stderr.write(`${message}\n`)
      return command === 'revoke' ? EXIT.leftBehind : EXIT.couldNotMint
    }
    process.stderr.write(
      `ephemeral-scan-token stopped on an unexpected error (a defect: please report it): ${message}\n`
    )
    return EXIT.unexpected
  }
}

process.exitCode = await run(process.argv.slice(2))
