// Types for bin/node-requirement.js (plain JavaScript so that an old Node can run it).
export declare const MINIMUM_NODE: string;
/** A message when `version` is older than MINIMUM_NODE, else null. */
export declare function nodeVersionProblem(version: string): string | null;
