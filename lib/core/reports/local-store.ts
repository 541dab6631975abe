import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { assertValidReportKey, assertValidReportPrefix, InvalidReportKeyError } from './publish.ts';
import { ReportNotFoundError, type ReportStore } from './store.ts';

/** Temporary files of unfinished writes: `.<name>.<uuid>.tmp`, never listed. */
const TEMP_FILE = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** Reports in a local folder: `<rootDir>/<stage>/<run-id>/<name>.<format>`. */
export class LocalReportStore implements ReportStore {
  readonly location: string;

  constructor(rootDir: string) {
    if (!rootDir) throw new Error('the local report folder must be named');
    this.location = resolve(rootDir);
  }

  /** Atomic: written to a temporary file beside the target, then renamed over it. */
  async put(key: string, body: string, _contentType: string): Promise<void> {
    const target = this.pathOf(key);
    const folder = dirname(target);
    await mkdir(folder, { recursive: true });
    const temp = join(folder, `.${target.slice(folder.length + 1)}.${randomUUID()}.tmp`);
    try {
      await writeFile(temp, body, { encoding: 'utf8', flag: 'wx' });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw error;
    }
  }

  async get(key: string): Promise<string> {
    try {
      return await readFile(this.pathOf(key), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw new ReportNotFoundError(key, this.location);
      }
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertValidReportPrefix(prefix);
    // Walk only the deepest folder the prefix names; the rest of the prefix filters names.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys = await this.walk(folder ? this.pathOf(folder) : this.location);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  private async walk(folder: string): Promise<string[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw error;
    }
    const keys: string[] = [];
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) keys.push(...(await this.walk(path)));
      else if (entry.isFile() && !TEMP_FILE.test(entry.name)) {
        keys.push(relative(this.location, path).split(sep).join('/'));
      }
    }
    return keys;
  }

  /** The file of a key, which must stay inside the folder. */
  private pathOf(key: string): string {
    assertValidReportKey(key);
    const path = resolve(this.location, key);
    if (!path.startsWith(this.location + sep))
      throw new InvalidReportKeyError(key, 'leaves the report folder');
    return path;
  }
}
