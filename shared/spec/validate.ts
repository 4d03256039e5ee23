import * as z from "zod";
import { type DocPath, formatDocPath, type ScenarioProblem } from "../scenario/scenario-error.ts";
import { YamlSource } from "../scenario/yaml-source.ts";
import { parseAt } from "../scenario/zod-problems.ts";
import {
  type FluxSpec,
  fieldDataPath,
  msgTypeRuleSchema,
  type SpecField,
  specFieldSchema,
  specFormatSchema,
  specHeaderSchema,
} from "./model.ts";

export type SpecValidation = { ok: true; spec: FluxSpec } | { ok: false; problems: ScenarioProblem[] };

const sections = {
  spec: specHeaderSchema,
  msg_type: msgTypeRuleSchema,
  format: specFormatSchema,
  fields: z.array(z.unknown()).min(1, "expected at least one field"),
};
const SECTIONS = Object.keys(sections);
const MAX_PREFIXED = { fixed: 999, llvar: 99, lllvar: 999 } as const;

interface Checked {
  field: SpecField;
  at: DocPath;
}

/**
 * Validates a fluxSpec YAML file: its shape (zod), then what a shape cannot say: each field located the way
 * its format reads raw, names, ISO field numbers and `data` paths used once, `scale` only on decimals, LLVAR
 * and LLLVAR maximums, and masking that holds: a masked field must be maskable where it is (text for `pan`,
 * a key for `hash`), never promoted when dropped, never the source of `msg_type`, and never read in clear by
 * another field (a fixed slot overlapping it, a `data` path containing it). Every problem comes at once with
 * its line, column and path, as the scenario validator gives them.
 *
 * @example
 * const result = validateSpec(await readFile("visa-v1.yaml", "utf8"), { file: "visa-v1.yaml" });
 * if (!result.ok) console.error(result.problems.map(formatProblem).join("\n"));
 */
export function validateSpec(text: string, options: { file?: string } = {}): SpecValidation {
  const source = new YamlSource(options.file ?? "spec.yaml", text);
  if (source.problems.length > 0) return { ok: false, problems: source.problems };
  const value = source.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return {
      ok: false,
      problems: [source.problem([], "expected a map with spec, msg_type, format and fields")],
    };
  }
  const doc = value as Record<string, unknown>;
  const problems: ScenarioProblem[] = [];
  const problem = (path: DocPath, message: string) => problems.push(source.problem(path, message));
  for (const key of Object.keys(doc)) {
    if (!SECTIONS.includes(key))
      problems.push(source.problem([key], `unknown section "${key}"; known: ${SECTIONS.join(", ")}`, "key"));
  }
  const header = parseAt(source, ["spec"], sections.spec, doc.spec, problems);
  const msgType = parseAt(source, ["msg_type"], sections.msg_type, doc.msg_type, problems);
  const format = parseAt(source, ["format"], sections.format, doc.format, problems);
  const written = parseAt(source, ["fields"], sections.fields, doc.fields, problems) ?? [];
  const fields: Checked[] = [];
  for (const [i, item] of written.entries()) {
    const field = parseAt(source, ["fields", i], specFieldSchema, item, problems);
    if (field) fields.push({ field, at: ["fields", i] });
  }
  if (format) for (const checked of fields) checkField(checked, format, header?.hash_key, problem);
  checkUnique(fields, problem);
  checkMaskedReads(fields, problem);
  if (msgType && "field" in msgType) {
    const source = fields.find((c) => c.field.name === msgType.field);
    if (!source && written.length === fields.length) {
      problem(["msg_type", "field"], `no field named "${msgType.field}" in fields`);
    } else if (source?.field.mask) {
      problem(
        ["msg_type", "field"],
        `"${msgType.field}" is masked: the message type would carry it in clear`,
      );
    }
  }
  if (problems.length > 0 || !header || !msgType || !format) {
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    return { ok: false, problems };
  }
  return { ok: true, spec: { spec: header, msg_type: msgType, format, fields: fields.map((c) => c.field) } };
}

function checkField(
  { field, at }: Checked,
  format: FluxSpec["format"],
  hashKey: string | undefined,
  problem: (path: DocPath, message: string) => void,
): void {
  const placed = field.offset !== undefined || field.length !== undefined;
  if (format.kind !== "iso8583" && field.iso8583) {
    problem(
      [...at, "iso8583"],
      `an ISO 8583 field number in a ${format.kind} spec: locate it with ${format.kind === "fixed" ? "offset and length" : "path"}`,
    );
  }
  if (format.kind !== "fixed" && placed) {
    problem(
      [...at, field.offset === undefined ? "length" : "offset"],
      `offset and length place a field in a fixed raw; this spec's format is ${format.kind}`,
    );
  }
  if (format.kind === "fixed" && placed && (field.offset === undefined || field.length === undefined)) {
    problem(at, "give both offset and length");
  }
  const iso = field.iso8583;
  if (iso && iso.field !== "mti" && iso.format !== "fixed" && iso.length > MAX_PREFIXED[iso.format]) {
    problem(
      [...at, "iso8583", "length"],
      `${iso.format} holds at most ${MAX_PREFIXED[iso.format]} bytes, got ${iso.length}`,
    );
  }
  if (iso?.field === "mti" && field.type !== "string")
    problem([...at, "type"], "the MTI is text: type string");
  if (field.scale !== undefined && field.type !== "decimal")
    problem([...at, "scale"], "scale is for type decimal");
  if (field.mask === "pan" && field.type !== "string") {
    problem([...at, "mask"], `mask pan keeps 6 + 4 characters of text; this field is ${field.type}`);
  }
  if (field.mask === "hash" && field.type !== "string" && field.type !== "binary") {
    problem(
      [...at, "mask"],
      `mask hash turns the value into hex text; make the field type string (it is ${field.type})`,
    );
  }
  if (field.mask === "hash" && hashKey === undefined) {
    problem(
      [...at, "mask"],
      "mask hash needs a key: name the rack secret in spec.hash_key (e.g. SPEC_HASH_KEY)",
    );
  }
  if (field.mask === "drop" && field.promote) {
    problem(
      [...at, "promote"],
      "a dropped field cannot be promoted: use mask pan or hash to promote it masked",
    );
  }
}

function checkUnique(fields: Checked[], problem: (path: DocPath, message: string) => void): void {
  const names = new Map<string, Checked>();
  const elements = new Map<string, Checked>();
  for (const checked of fields) {
    const { field, at } = checked;
    const first = names.get(field.name);
    if (first)
      problem([...at, "name"], `duplicate field name "${field.name}" (as ${formatDocPath(first.at)})`);
    else names.set(field.name, checked);
    if (field.iso8583) {
      const key = String(field.iso8583.field);
      const taken = elements.get(key);
      if (taken) {
        problem(
          [...at, "iso8583", "field"],
          `ISO 8583 field ${key} is already ${taken.field.name} (${formatDocPath(taken.at)}): one field per element`,
        );
      } else elements.set(key, checked);
    }
  }
}

/** Two fields reading the same bytes or the same part of `data`: refused when one of them is masked. */
function checkMaskedReads(fields: Checked[], problem: (path: DocPath, message: string) => void): void {
  for (const [i, a] of fields.entries()) {
    for (const b of fields.slice(i + 1)) {
      const pa = fieldDataPath(a.field);
      const pb = fieldDataPath(b.field);
      if (a.field.name === b.field.name) continue;
      if (pa === pb || pb.startsWith(`${pa}.`) || pa.startsWith(`${pb}.`)) {
        const where = b.field.path === undefined ? [...b.at, "name"] : [...b.at, "path"];
        problem(
          where,
          `data path ${pb} overlaps ${pa} of field ${a.field.name}: each field needs its own place in data`,
        );
      }
      if (!a.field.mask && !b.field.mask) continue;
      const { offset: oa, length: la } = a.field;
      const { offset: ob, length: lb } = b.field;
      if (oa === undefined || la === undefined || ob === undefined || lb === undefined) continue;
      if (oa < ob + lb && ob < oa + la) {
        const [masked, reader] = a.field.mask ? [a, b] : [b, a];
        problem(
          [...reader.at, "offset"],
          `bytes ${reader.field.offset}–${(reader.field.offset ?? 0) + (reader.field.length ?? 0) - 1} overlap the masked field ${masked.field.name}: they would reach data in clear`,
        );
      }
    }
  }
}
