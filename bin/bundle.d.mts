/** The project's root directory. */
export const ROOT: string;
/** The URL of a cached ESM bundle of `entry` (a path from the project root), made anew when its sources change. */
export function bundle(entry: string): Promise<URL>;
