/** fluxSpec: the YAML model, its validator, the raw codecs (ISO 8583, fixed, JSON) and masking. The one face of this folder. */
export {
  concat,
  decodeIso8583,
  encodeIso8583,
  type IsoFrame,
  IsoFrameError,
  type IsoLayout,
} from "./iso8583.ts";
export { HASH_HEX_LENGTH, journalView, maskPan, SpecMaskError } from "./journal-view.ts";
export {
  FIELD_TYPES,
  type FluxSpec,
  fieldDataPath,
  fluxSpecSchema,
  MASKS,
  type Mask,
  type SpecField,
  specId,
} from "./model.ts";
export { parseSpecReference, type SpecReference, specHash } from "./reference.ts";
export { type Decoded, decodeWithSpec, encodeWithSpec, SpecCodecError } from "./spec-codec.ts";
export { type SpecValidation, validateSpec } from "./validate.ts";
