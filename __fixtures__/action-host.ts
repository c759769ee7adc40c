// Unit tests that call the core directly run it as the action would: the
// same host main and post install, so masking and the log reach the real
// @actions/core file commands the TestRunner reads.
import { useActionHost } from '../src/action/host.js'

useActionHost()
