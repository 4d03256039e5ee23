const REFERENCE = /\$\{([A-Za-z0-9_.-]+)\}/g;

/**
 * Replaces `${NAME}` in every string of a gear's config with the rack's secret of that name. Only strings
 * are touched (write `port: 9100`, not `port: ${PORT}`). Throws naming the field and the secret when one
 * is missing, so a gear never starts with a half-filled header.
 *
 * @example resolveSecretRefs({ headers: { "x-api-key": "${ISSUER_API_KEY}" } }, (n) => secrets.get(n))
 */
export function resolveSecretRefs(
  value: unknown,
  secret: (name: string) => string | undefined,
  path = "config",
): unknown {
  if (typeof value === "string") {
    return value.replace(REFERENCE, (_whole, name: string) => {
      const found = secret(name);
      if (found === undefined) {
        throw new Error(
          `${path} refers to the secret \${${name}}, which this rack does not have (set it with PUT /api/v1/racks/{id}/secrets/${name})`,
        );
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => resolveSecretRefs(item, secret, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveSecretRefs(item, secret, `${path}.${key}`)]),
    );
  }
  return value;
}
