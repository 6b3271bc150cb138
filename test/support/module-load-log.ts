import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The built package, which the module-load tests inspect. */
export const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/**
 * A loader hook for `node --import HOOK` that appends the URL of every module node loads to the file named by
 * WHARF_LOAD_LOG (the hook runs in its own thread, so it writes a file rather than printing). Call `dispose()`
 * at the end.
 */
export interface ModuleLoadLog {
  /** The file to pass as `node --import`. */
  hook: string;
  /** A fresh log file path for one run. */
  logFile(name: string): string;
  /** The modules a run logged: ours relative to dist/ (`cli/main.js`), everything else by URL. */
  modulesIn(logFile: string): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function createModuleLoadLog(): Promise<ModuleLoadLog> {
  const work = await mkdtemp(join(tmpdir(), 'wharf-module-loads-'));
  await writeFile(
    join(work, 'log-loads.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  appendFileSync(process.env.WHARF_LOAD_LOG, url + '\\n');
  return nextLoad(url, context);
}
`,
  );
  const hook = join(work, 'register.mjs');
  await writeFile(
    hook,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(work, 'log-loads.mjs')).href)});\n`,
  );
  return {
    hook,
    logFile: (name) => join(work, `${name.replace(/[^\w-]/g, '_')}.log`),
    modulesIn: async (logFile) => {
      const urls = (await readFile(logFile, 'utf8')).split('\n').filter((url) => url !== '');
      return urls.map((url) => {
        if (!url.startsWith('file:')) return url;
        const path = fileURLToPath(url);
        return path.startsWith(DIST) ? relative(DIST, path).split('\\').join('/') : url;
      });
    },
    dispose: () => rm(work, { recursive: true, force: true }),
  };
}
