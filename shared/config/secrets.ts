/** Key names that hold credentials; such values never live in TOML. */
const SECRET_NAME = /(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)/i;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** True when a value is exactly one `${VAR}` reference: it names a secret without holding it. */
export function isPureReference(value: unknown): boolean {
  return typeof value === "string" && WHOLE_REFERENCE.test(value);
}

/**
 * Expands `${VAR}` references from the environment. Missing variables are returned, not thrown, so the loader
 * can report them with the key and line that referred to them.
 *
 * @example expandReferences("Bearer ${T}", { T: "x" }) // { value: "Bearer x", missing: [] }
 */
export function expandReferences(
  value: string,
  env: Record<string, string | undefined>,
): { value: string; missing: string[] } {
  const missing: string[] = [];
  const expanded = value.replace(REFERENCE, (_, name: string) => {
    const found = env[name];
    if (found === undefined) missing.push(name);
    return found ?? "";
  });
  return { value: expanded, missing };
}

export const MASK = "********";
