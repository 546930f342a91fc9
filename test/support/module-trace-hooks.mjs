// Module hooks (node --import test/support/module-trace-register.mjs): appends every module URL
// that the process resolves, one per line, to $WSGATE_MODULE_TRACE. Lets a test see what an
// entry point really loads, instead of reading its source.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  const file = process.env.WSGATE_MODULE_TRACE;
  if (file) appendFileSync(file, `${result.url}\n`);
  return result;
}
