/**
 * `${NAME}` interpolation in string scalars, so secrets (webhook URLs, API keys, VRRP auth) can come from the
 * service's environment instead of the file. `$${X}` writes a literal `${X}`. A `$` not followed by `{` is kept.
 */

export type InterpolationResult =
  | { ok: true; value: string; used: string[] }
  | { ok: false; message: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function interpolateEnv(text: string, env: NodeJS.ProcessEnv): InterpolationResult {
  if (!text.includes('${')) return { ok: true, value: text, used: [] };
  let out = '';
  const used: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (text.startsWith('${', i)) {
      const end = text.indexOf('}', i + 2);
      if (end < 0) return { ok: false, message: 'unterminated ${ (write $${ for a literal ${)' };
      const name = text.slice(i + 2, end);
      if (!NAME.test(name)) return { ok: false, message: `invalid environment variable name "${name}" in \${...}` };
      const value = env[name];
      // Only the name is reported, never a value: these are usually secrets.
      if (value === undefined) return { ok: false, message: `environment variable ${name} is not set` };
      out += value;
      used.push(name);
      i = end + 1;
      continue;
    }
    out += text[i];
    i++;
  }
  return { ok: true, value: out, used };
}
