// Used with `node --import` by the ui tests that run the Node command line the model page
// prints: in this pnpm workspace, @modelstore/core cannot import the storage backend a
// user's project would have installed beside it (pnpm links only declared dependencies),
// so an @modelstore/* module not found where it is imported is resolved as the CLI's own
// dependency instead. The command line itself runs unchanged.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
const fallback = ${JSON.stringify(new URL('../package.json', import.meta.url).href)};
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (!specifier.startsWith('@modelstore/') || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return next(specifier, { ...context, parentURL: fallback });
  }
}`),
);
