// What `lvskeep lab` needs on the host, and the one apt-get line that installs what is missing. Pure: the
// probes (is a command on PATH, does a path exist) are injected.

export interface Requirement {
  /** What is looked for, for people: `linux.uml (the UML kernel)`. */
  what: string;
  /** Debian package that provides it. */
  pkg: string;
  present: boolean;
}

export interface HostProbe {
  onPath(cmd: string): boolean;
  exists(path: string): boolean;
}

export const UML_MODULES_DIR = '/usr/lib/uml/modules';

export function checkRequirements(probe: HostProbe): Requirement[] {
  const uml = probe.onPath('linux.uml') || probe.onPath('linux') || probe.exists('/usr/bin/linux.uml');
  return [
    { what: 'linux.uml (the user-mode-linux kernel)', pkg: 'user-mode-linux', present: uml },
    { what: `${UML_MODULES_DIR} (IPVS, veth, bridge modules for it)`, pkg: 'user-mode-linux', present: probe.exists(UML_MODULES_DIR) },
    { what: 'ipvsadm', pkg: 'ipvsadm', present: probe.onPath('ipvsadm') },
    { what: 'ip (iproute2)', pkg: 'iproute2', present: probe.onPath('ip') },
    { what: 'arping', pkg: 'iputils-arping', present: probe.onPath('arping') },
    { what: 'perl (loads the guest modules)', pkg: 'perl-base', present: probe.onPath('perl') },
  ];
}

/** Packages to install, each once, in a stable order. */
export function missingPackages(reqs: readonly Requirement[]): string[] {
  return [...new Set(reqs.filter((r) => !r.present).map((r) => r.pkg))];
}

export function aptInstallLine(pkgs: readonly string[]): string {
  return `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
}

/** The commands `--install` runs, in order: refresh the package lists, then install `pkgs` without prompting. */
export function installCommands(pkgs: readonly string[]): string[][] {
  return [
    ['apt-get', 'update'],
    ['apt-get', 'install', '-y', '--no-install-recommends', ...pkgs],
  ];
}

export interface PrerequisiteDeps {
  probe: HostProbe;
  /** Runs one command with the terminal inherited; resolves with its exit status (127 when it cannot start). */
  run(argv: readonly string[]): Promise<number>;
  out(text: string): void;
}

/**
 * Check what the lab needs; with `install`, install what is missing (installCommands) and check again.
 * Returns true when everything is present; otherwise it has printed what is missing and the apt-get line.
 */
export async function ensurePrerequisites(install: boolean, deps: PrerequisiteDeps): Promise<boolean> {
  let missing = missingPackages(checkRequirements(deps.probe));
  if (missing.length > 0 && install) {
    deps.out(`lvskeep lab: installing ${missing.join(' ')}\n`);
    for (const argv of installCommands(missing)) {
      const code = await deps.run(argv);
      if (code !== 0) {
        deps.out(`lvskeep lab: ${argv.slice(0, 2).join(' ')} failed (exit ${code})\n`);
        return false;
      }
    }
    missing = missingPackages(checkRequirements(deps.probe));
    if (missing.length > 0) deps.out('lvskeep lab: still missing after apt-get install:\n');
  }
  if (missing.length === 0) return true;
  deps.out(`lvskeep lab: missing on this machine: ${missing.join(', ')}\n  install them with:  ${aptInstallLine(missing)}\n${install ? '' : '  (or run lvskeep lab --install)\n'}`);
  return false;
}
