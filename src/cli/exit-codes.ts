/**
 * What the CLI's exit status says, so a CI script can branch on it. The
 * numbers are part of the interface (README, docs/cli.md, --help).
 */
export const EXIT = {
  ok: 0,
  /** A defect of the CLI: an error it did not expect. */
  unexpected: 1,
  /** A flag, the environment or the state file's path is wrong; nothing was sent. */
  badInput: 2,
  /** mint: the bootstrap, the API server or the file system refused; nothing is left. */
  couldNotMint: 3,
  /** mint: the token was minted but the proof failed (identity, expect-*, excess privilege); it was revoked. */
  proofFailed: 4,
  /** revoke: the state file is not one mint could have written here; nothing was deleted. */
  stateRefused: 5,
  /**
   * Something may be left: revoke could not remove the Secret or the
   * directory, or mint's rollback could not; the state file is kept for
   * (another) revoke.
   */
  leftBehind: 6
} as const
