/** Stored columns are shared with the rack (its local message files): one definition, in shared/. */
export * from "../../../shared/storage/parquet-schema.ts";
