/** The storage tree is shared with the rack (its local message files): one definition, in shared/. */
export * from "../../../shared/storage/partition-path.ts";
