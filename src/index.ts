// The one bundle the runner loads for both steps (action.yml points `main`
// and `post` here). Main marks itself in saved state before anything else,
// and the runner hands that state to post. Each step loads only its own
// code: the bundler splits at these imports, so post never parses main's
// minting and checking steps (token-request, prove-token, token-api) or the
// GitHub client; the proof's parsers and words are shared (post's summary
// and inputs use them).
import { isPost, markMainStarted } from './runner/state.js'

if (isPost()) {
  const { run } = await import('./post.js')
  await run()
} else {
  markMainStarted()
  const { run } = await import('./main.js')
  await run()
}
