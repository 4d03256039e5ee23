import * as z from "zod";

/** A DNS name's length: an entity is a rack or a mixer, usually named like its host. */
export const ENTITY_NAME_MAX = 253;
/**
 * Letters, digits, `.`, `_` and `-`: safe in a terminal table, a SQL literal, a file name and (dots made
 * underscores) a subject token. No spaces, no control characters, no NUL.
 */
const ENTITY_NAME_CHARS = /^[A-Za-z0-9._-]*$/;

/** What an entity name may be, for error messages. */
export const ENTITY_NAME_ALLOWED = `1 to ${ENTITY_NAME_MAX} letters, digits, ".", "_" or "-"`;

/** Whether `text` is made only of the characters an entity name may hold (any length). */
export function hasEntityNameChars(text: string): boolean {
  return ENTITY_NAME_CHARS.test(text);
}

/** Whether `text` is an entity name: 1 to 253 of those characters. */
export function isEntityName(text: string): boolean {
  return text.length >= 1 && text.length <= ENTITY_NAME_MAX && hasEntityNameChars(text);
}

/**
 * The name of the entity (rack, mixer) that emitted a record; the rack's `base.name` and `rack.name_prefix`
 * follow the same rule, so a name the config accepts is one ingest accepts.
 */
export const entityNameSchema = z
  .string()
  .refine(isEntityName, { message: `expected ${ENTITY_NAME_ALLOWED}` });
