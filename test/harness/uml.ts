// Typed entry point to the UML boot logic, which lives in src/lab/uml/uml-run.mjs so that the plain-JS test
// runner can use it too (one implementation, two callers).
export {
  REPO_ROOT,
  INIT_SCRIPT,
  DEFAULT_MODULES_DIR,
  DEFAULT_TIMEOUT_MS,
  SCRATCH_DIR,
  UmlRunError,
  buildUmlArgs,
  chooseUmlTempDir,
  findUmlBinary,
  isVisibleInGuest,
  parseMemSize,
  renderJobScript,
  runInUml,
  shellQuote,
} from '../../src/lab/uml/uml-run.mjs';
export type { RunInUmlOptions, UmlJob, UmlProgress, UmlResult } from '../../src/lab/uml/uml-run.mjs';

/** True inside the guest booted by test/runner/run-tests.mjs (init exports it through the job's env). */
export function inUmlGuest(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.LVSKEEP_IN_UML === '1';
}
