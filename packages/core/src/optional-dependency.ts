import { statSync } from 'node:fs';
import { MissingDependencyError } from './errors.js';

/**
 * Loads an optional package (a peer dependency the user may not have installed, such as
 * an adapter's framework runtime) through `load`, the caller's own
 * `() => import('<package>')` so that the package resolves from the caller's location,
 * not from core's.
 *
 * @param load imports the package, e.g. `() => import('onnxruntime-node')`
 * @param packageName the npm package, e.g. `onnxruntime-node`
 * @param neededBy what needs it, for the message, e.g. `OnnxAdapter`
 * @returns what `load` resolves to (the package's module namespace)
 * @throws MissingDependencyError (`packageName`) when the import fails, with the error as `cause`
 *   and the message `<neededBy> needs <packageName>: npm install <packageName>`
 */
export async function importOptional<T>(load: () => Promise<T>, packageName: string, neededBy: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw new MissingDependencyError(packageName, `${neededBy} needs ${packageName}: npm install ${packageName}`, { cause: error });
  }
}

/**
 * Whether `model` is the path of an existing regular file whose name ends with
 * `extension` (case-insensitive, e.g. `'.onnx'`): how a file-format adapter's `matches`
 * recognises its model. Never throws.
 */
export function isFileWithExtension(model: unknown, extension: string): model is string {
  if (typeof model !== 'string' || !model.toLowerCase().endsWith(extension.toLowerCase())) return false;
  try {
    return statSync(model).isFile();
  } catch {
    return false;
  }
}
