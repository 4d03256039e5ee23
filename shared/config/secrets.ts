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
 * @example expandReferences("Bearer ${T}", { T: "x" }) // { value: "Bearer x", missing: [], names: ["T"] }
 */
export function expandReferences(
  value: string,
  env: Record<string, string | undefined>,
): { value: string; missing: string[]; names: string[] } {
  const missing: string[] = [];
  const names: string[] = [];
  const expanded = value.replace(REFERENCE, (_, name: string) => {
    names.push(name);
    const found = env[name];
    if (found === undefined) missing.push(name);
    return found ?? "";
  });
  return { value: expanded, missing, names };
}

/** The variables a config text refers to with `${VAR}`, so a launcher can hand exactly those to the Worker. */
export function referencedVariables(text: string): string[] {
  return [...new Set([...text.matchAll(REFERENCE)].map((m) => m[1] as string))];
}

export const MASK = "********";
