/**
 * `{ ...a, ...b, ...c }`: a new plain object with the own enumerable fields of each part in turn, later parts
 * winning; undefined and null parts add nothing.
 *
 * Why not the spread: on Node 20 (V8 11.3) every field a literal adds after its first spread, which that spread's
 * object lacked, costs about 1 µs (`{ ...a, ...b }` with 1 new field 1.5 µs, `Object.assign({}, a, b)` 0.1 µs),
 * and the rack merges attributes for every span and log line. Object.assign would turn a `__proto__` field into
 * the object's prototype; a part that has one is merged by spreading.
 *
 * @example merge({ gear_id: "parser" }, { flux_id }) // { gear_id: "parser", flux_id }
 */
export function merge<A extends object, B extends object = A, C extends object = A>(
  a: A | undefined | null,
  b?: B | undefined | null,
  c?: C | undefined | null,
): A & B & C {
  if (hasProto(a) || hasProto(b) || hasProto(c)) return { ...a, ...b, ...c } as A & B & C;
  return Object.assign({}, a, b, c);
}

function hasProto(part: object | undefined | null): boolean {
  return part != null && Object.hasOwn(part, "__proto__");
}
