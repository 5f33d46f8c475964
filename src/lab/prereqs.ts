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
