/** Key names that hold credentials; such values never live in TOML. */
const SECRET_NAME = /(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)/i;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

const VARIABLE = String.raw`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`;
const REFERENCE = new RegExp(VARIABLE, "g");
const ANY_REFERENCE = new RegExp(VARIABLE);
const WHOLE_REFERENCE = new RegExp(`^${VARIABLE}$`);

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

/**
 * Whether a value as written in TOML (a string, a list of them, or a table of them) refers to the environment.
 * Such a value is shown as written, never expanded: the variable may hold a credential whatever its name.
 */
export function refersToEnvironment(value: unknown): boolean {
  if (typeof value === "string") return ANY_REFERENCE.test(value);
  if (Array.isArray(value)) return value.some(refersToEnvironment);
  if (value && typeof value === "object") return Object.values(value).some(refersToEnvironment);
  return false;
}

/**
 * Whether a string or a list as written refers to a variable named like a credential (`${NATS_PASSWORD}`).
 * Such a value is a secret: masked when shown, and sealed into a rack's passport rather than sent in its plain
 * config. (A table's entries are shown as written, credential-named ones masked.)
 */
export function refersToCredential(value: unknown): boolean {
  const texts = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
  return texts.some((text) => typeof text === "string" && referencedVariables(text).some(looksSecret));
}

/** The variables a config text refers to with `${VAR}`, so a launcher can hand exactly those to the Worker. */
export function referencedVariables(text: string): string[] {
  return [...new Set([...text.matchAll(REFERENCE)].map((m) => m[1] as string))];
}

export const MASK = "********";
