/** True when `root` (ending in a slash) has a build newer than every file under its src/. */
export declare function buildIsFresh(root: string): boolean;
