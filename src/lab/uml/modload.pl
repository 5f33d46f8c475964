#!/usr/bin/perl
# Loads kernel modules inside the UML guest without kmod: the host may not have kmod installed and the
# guest must not create /lib/modules on the host's root (hostfs writes go to the host). Dependencies come
# from modules.dep; the module itself is loaded with finit_module(2).
# Usage: modload.pl MODDIR [--optional] NAME...   (names after --optional may be missing)
use strict;
use warnings;

my $SYS_finit_module = 313;    # x86_64 syscall number; UML on amd64 runs the host's x86_64 binaries
my $EEXIST = 17;

my $moddir = shift @ARGV or die "modload: usage: modload.pl MODDIR [--optional] NAME...\n";
my %dep;     # canonical module name -> [relative path, dependency paths...]
my %path_of; # canonical module name -> relative path
sub canon { my $n = shift; $n =~ s{.*/}{}; $n =~ s{\.ko(\..*)?$}{}; $n =~ tr/-/_/; return $n; }

open(my $depf, '<', "$moddir/modules.dep") or die "modload: cannot read $moddir/modules.dep: $!\n";
while (my $line = <$depf>) {
  chomp $line;
  my ($mod, $deps) = split /:\s*/, $line, 2;
  next unless defined $mod && length $mod;
  my $name = canon($mod);
  $path_of{$name} = $mod;
  $dep{$name} = [ grep { length } split /\s+/, ($deps // '') ];
}
close $depf;

my %builtin;
if (open(my $bf, '<', "$moddir/modules.builtin")) {
  while (my $l = <$bf>) { chomp $l; $builtin{canon($l)} = 1; }
  close $bf;
}

my %loaded;
sub load_path {
  my ($rel) = @_;
  my $name = canon($rel);
  return 1 if $loaded{$name};
  open(my $fh, '<', "$moddir/$rel") or do { warn "modload: cannot open $moddir/$rel: $!\n"; return 0; };
  my $params = "";    # syscall() passes strings by pointer and needs a writable scalar
  my $r = syscall($SYS_finit_module, fileno($fh), $params, 0);
  my $errno = $! + 0;
  close $fh;
  if ($r == -1 && $errno != $EEXIST) {
    warn "modload: finit_module($rel) failed: errno $errno\n";
    return 0;
  }
  $loaded{$name} = 1;
  return 1;
}

my $optional = 0;
my $failed = 0;
for my $arg (@ARGV) {
  if ($arg eq '--optional') { $optional = 1; next; }
  my $name = canon($arg);
  next if $builtin{$name};
  my $rel = $path_of{$name};
  if (!defined $rel) {
    if ($optional) { print "modload: optional module $name not present, skipped\n"; }
    else { warn "modload: module $name not found in $moddir/modules.dep\n"; $failed = 1; }
    next;
  }
  # depmod lists dependencies so that loading them in reverse order satisfies each before its users.
  my $ok = 1;
  for my $d (reverse @{ $dep{$name} }) { $ok &&= load_path($d); }
  $ok &&= load_path($rel);
  $failed = 1 if !$ok && !$optional;
}
exit($failed ? 1 : 0);
