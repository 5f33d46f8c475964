// Types for src/lab/uml/uml-run.mjs (plain JS so the test runner needs no build step).
export declare const REPO_ROOT: string;
export declare const INIT_SCRIPT: string;
export declare const DEFAULT_MODULES_DIR: string;
export declare const DEFAULT_TIMEOUT_MS: number;
export declare const SCRATCH_DIR: string;

export declare class UmlRunError extends Error {
  constructor(message: string, consoleTail: string);
  readonly consoleTail: string;
}

export interface UmlJob {
  argv: readonly string[];
  cwd: string;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface UmlProgress {
  elapsedMs: number;
  /** Last line the guest command has written so far. */
  lastLine: string;
}

export interface RunInUmlOptions {
  /** The command run inside the guest (no shell). */
  argv: readonly string[];
  /** Absolute working directory inside the guest; default: the repository root. */
  cwd?: string;
  /** The command's environment besides PATH and HOME, which init sets. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Host-side limit for boot + command + halt; default 20 minutes. */
  timeoutMs?: number;
  mem?: string;
  umlBinary?: string | undefined;
  modulesDir?: string;
  /** Extra modules to load when present (IPVS, schedulers, veth, bridge, ipip, tun, dummy, macvlan always are). */
  extraModules?: readonly string[];
  /** Host directory kept visible in the guest even under /tmp; default: the repository root. */
  keepPath?: string;
  /** Scratch directory for job/output/status files; must be visible in the guest. Default: a fresh one under .lvskeep-test/, removed afterwards. */
  workDir?: string;
  signal?: AbortSignal;
  onProgress?: (p: UmlProgress) => void;
  progressIntervalMs?: number;
  /** Receives the command's output while the guest runs (polled every 0.5 s), as well as in the result. */
  onOutput?: (text: string) => void;
}

export interface UmlResult {
  /** Exit status of the command inside the guest (125: init failed before running it). */
  exitCode: number;
  /** The command's stdout and stderr, interleaved, plus init's own messages. */
  output: string;
  durationMs: number;
  /** The guest's console (kernel and init messages). */
  consoleLog: string;
}

export declare function findUmlBinary(env?: NodeJS.ProcessEnv): string | undefined;
export declare function shellQuote(word: string): string;
export declare function renderJobScript(job: UmlJob): string;
export declare function buildUmlArgs(opts: {
  initPath: string;
  mem?: string;
  params?: Readonly<Record<string, string>>;
  umid?: string;
  umlDir?: string;
}): string[];
export declare function parseMemSize(mem: string): number;
export declare function chooseUmlTempDir(opts: {
  env: Readonly<Record<string, string | undefined>>;
  shmFreeBytes: number | undefined;
  memBytes: number;
  fallbackDir: string;
}): string | undefined;
export declare function isVisibleInGuest(path: string, keep: string): boolean;
export declare function runInUml(opts: RunInUmlOptions): Promise<UmlResult>;
